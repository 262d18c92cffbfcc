/**
 * A real peer on the same redis-server and crowd: Colyseus (@colyseus/core with @colyseus/redis-presence and
 * @colyseus/redis-driver), the TypeScript game server many Node studios match with. Players are seated through
 * `matchMaker.joinOrCreate` into rooms of `sessionSize`: a room takes seat reservations until it is full, then
 * locks itself, and the next player gets a new room. Measured: players seated per second and time-to-seat (the
 * `joinOrCreate` call), with the same number of players and the same number of requests in flight as our core
 * run (consumers × batch size), and Redis commands and CPU per player from INFO, as for the other designs.
 *
 * The line used is Colyseus 0.16 (the newest that runs on Node 20; 0.17+ needs Node 22). The `colyseus` meta
 * package is not used: it pulls a transport whose dependency installs from a git URL, and a seat
 * reservation needs no transport (no client connects in the measurement).
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { matchMaker, Room } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { percentile } from "../src/lib/percentile";
import { delta, flushDatabase, snapshot, type RawClient } from "./redisProbe";

/** Attempts per player before it counts as never seated. */
const MAX_ATTEMPTS = 20;

/** A room of a fixed size: it only holds seats (the game itself is not part of matchmaking). */
class MatchRoom extends Room {
  override onCreate(options: { size: number }): void {
    this.maxClients = options.size;
  }
  override onJoin(): void {}
}

export interface PeerResult {
  design: "colyseus";
  version: string;
  players: number;
  sessionSize: number;
  inFlight: number;
  seconds: number;
  playersPerSec: number;
  seated: number;
  rooms: number;
  /** Rooms whose seat count is not exactly sessionSize at the end (the last room may be partly filled when players failed). */
  roomsNotFull: number;
  /** Rooms holding more seats than sessionSize (must be 0). */
  roomsOverfilled: number;
  timeToSeatMsP50: number;
  timeToSeatMsP95: number;
  timeToSeatMsP99: number;
  serverCommandsPerPlayer: number;
  redisCpuMicrosPerPlayer: number;
  /** joinOrCreate calls that threw (each retried). */
  failures: number;
  notes: string[];
}

function colyseusVersion(): string {
  try {
    // The package's exports hide package.json: read it beside the resolved entry (build/index.js).
    const file = join(dirname(require.resolve("@colyseus/core")), "..", "package.json");
    return String((JSON.parse(readFileSync(file, "utf8")) as { version: string }).version);
  } catch {
    return "unknown";
  }
}

/** Seats `players` players, `inFlight` joinOrCreate calls at a time, into rooms of `sessionSize`. */
export async function runColyseus(url: string, admin: RawClient, o: { players: number; sessionSize: number; inFlight: number }): Promise<PeerResult> {
  // Its own database only (`admin` has `url`'s selected): FLUSHALL would also wipe a shared server's others.
  await flushDatabase(admin);
  const presence = new RedisPresence(url);
  const driver = new RedisDriver(url);
  await matchMaker.setup(presence, driver);
  matchMaker.setHealthChecksEnabled(false);
  await matchMaker.accept();
  matchMaker.defineRoomType("match", MatchRoom, { size: o.sessionSize });
  // Colyseus waits on one emitter per concurrent joinOrCreate; with hundreds in flight Node would warn of a leak.
  const maxListeners = EventEmitter.defaultMaxListeners;
  EventEmitter.defaultMaxListeners = Math.max(maxListeners, o.inFlight + 10);
  const notes: string[] = [];
  const times: number[] = [];
  const seatsPerRoom = new Map<string, number>();
  let failures = 0;
  const errors = new Set<string>();
  try {
    // Warm-up outside the clock: one room created and filled.
    for (let i = 0; i < o.sessionSize; i++) await matchMaker.joinOrCreate("match", { warm: true });
    const before = await snapshot(admin);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.inFlight }, async () => {
        while (next < o.players) {
          next++;
          const c0 = performance.now();
          // A client whose join loses a race ("room is already full") asks again, as a game client would.
          for (let attempt = 1; ; attempt++) {
            try {
              const seat = await matchMaker.joinOrCreate("match", {});
              times.push(performance.now() - c0);
              seatsPerRoom.set(seat.room.roomId, (seatsPerRoom.get(seat.room.roomId) ?? 0) + 1);
              break;
            } catch (err) {
              failures++;
              if (errors.size < 3) errors.add(err instanceof Error ? err.message.replace(/\S+ is already full/, "<room> is already full") : String(err));
              if (attempt >= MAX_ATTEMPTS) break;
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const d = delta(before, await snapshot(admin));
    const seated = times.length;
    if (failures) notes.push(`${failures} joinOrCreate calls failed and were retried (up to ${MAX_ATTEMPTS} attempts per player): ${[...errors].join("; ")}`);
    if (seated < o.players) notes.push(`${o.players - seated} players were never seated`);
    const roomsNotFull = [...seatsPerRoom.values()].filter((n) => n !== o.sessionSize).length;
    const roomsOverfilled = [...seatsPerRoom.values()].filter((n) => n > o.sessionSize).length;
    if (roomsNotFull) notes.push(`${roomsNotFull} of ${seatsPerRoom.size} rooms do not hold exactly ${o.sessionSize} seats`);
    return {
      design: "colyseus",
      version: colyseusVersion(),
      players: o.players,
      sessionSize: o.sessionSize,
      inFlight: o.inFlight,
      seconds,
      playersPerSec: seated / seconds,
      seated,
      rooms: seatsPerRoom.size,
      roomsNotFull,
      roomsOverfilled,
      timeToSeatMsP50: percentile(times, 50),
      timeToSeatMsP95: percentile(times, 95),
      timeToSeatMsP99: percentile(times, 99),
      serverCommandsPerPlayer: d.commands / Math.max(1, seated),
      redisCpuMicrosPerPlayer: (d.cpuSeconds / Math.max(1, seated)) * 1e6,
      failures,
      notes,
    };
  } finally {
    EventEmitter.defaultMaxListeners = maxListeners;
    await matchMaker.gracefullyShutdown().catch(() => undefined);
    matchMaker.removeRoomType("match");
    presence.shutdown();
    await driver.shutdown().catch(() => undefined);
  }
}
