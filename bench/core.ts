/**
 * Core throughput: players enqueued, grouped and assigned per second through MatchmakingStore, and the same
 * work through the reference's access pattern, on the same redis-server.
 *
 * Both designs get the same load shape: `consumers` concurrent consumers (one Redis connection each, as
 * Event Hub partitions would be processed by separate instances) each taking Event Hub-sized batches of
 * players, and ONE assigner (the timer function is a singleton) looping over "assign ready sessions"
 * without a pause while there is work. Servers are registered before the clock starts. The run ends when
 * every enqueued player has been assigned (or, for the reference, when nothing more can be assigned).
 */
import { createRedisConnection, MatchmakingStore, type RedisConnection } from "../src/store";
import type { EnqueueRequest } from "../src/store/types";
import type { ModeSpec } from "../src/domain/modeRules";
import { ReferenceMatchmaker, type RefPlayer } from "./reference/referenceMatchmaker";
import { setTimeout as sleep } from "node:timers/promises";
import { forEachLimit } from "../src/lib/limiter";
import { percentile } from "../src/lib/percentile";
import { connect, CountingClient, delta, flushAll, snapshot, type RawClient, type ServerDelta } from "./redisProbe";

/** The store as the bench drives it: leases and ticket retention long enough that nothing expires during a run. */
function benchStore(conn: RedisConnection, prefix: string, modes: Record<string, ModeSpec>): MatchmakingStore {
  return new MatchmakingStore(conn, { prefix, modes, serverLeaseSeconds: 3600, ticketRetentionSeconds: 3600 });
}

/** Wraps a RedisConnection and counts the calls made through it (one call = one round trip for the store). */
export class CountingConnection implements RedisConnection {
  calls = 0;
  constructor(private readonly inner: RedisConnection) {}
  get mode(): RedisConnection["mode"] {
    return this.inner.mode;
  }
  runScript(firstKey: string, sha: string, body: string, keys: string[], args: string[]): Promise<unknown> {
    this.calls++;
    return this.inner.runScript(firstKey, sha, body, keys, args);
  }
  command<T = unknown>(firstKey: string, args: string[], readonly?: boolean): Promise<T> {
    this.calls++;
    return this.inner.command<T>(firstKey, args, readonly);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Scenario {
  sessionSize: number;
  buckets: number;
  players: number;
  consumers: number;
  batchSize: number;
  /**
   * "ranked5v5": every bucket is a 5v5 skill mode with parties (RANKED_5V5; sessionSize must be 10), and every
   * 10 players are a party of 3, a party of 2 and 5 solos, skills 1400-1599 (all within the window, so every
   * player is matched and the work equals the FIFO scenarios'). The reference runs the same players as plain
   * sessions of 10: it has no rules.
   */
  rules?: "ranked5v5";
}

/** The bench's 5v5 skill mode with parties (the shape of DESIGN.md section 6's example). */
export const RANKED_5V5: ModeSpec = { teams: 2, teamSize: 5, maxPartySize: 5, skill: { window: 200, widen: [{ afterSeconds: 15, window: 400 }] } };

/** The requests of players first..first+size-1 of a ranked5v5 scenario (size a multiple of 10). */
export function rankedBatch(first: number, size: number, modeNames: string[], now: number): EnqueueRequest[] {
  const out: EnqueueRequest[] = [];
  const skill = (p: number) => 1400 + ((p * 37) % 200);
  for (let c = first; c < first + size; c += 10) {
    const mode = modeNames[(c / 10) % modeNames.length]!;
    const unit = (leader: number, n: number): EnqueueRequest => ({
      ticketId: `t${leader}`,
      playerId: `p${leader}`,
      mode,
      region: REGION,
      requestedAtMs: now,
      skill: skill(leader),
      ...(n > 1 ? { party: Array.from({ length: n - 1 }, (_, i) => ({ playerId: `p${leader + i + 1}`, skill: skill(leader + i + 1) })) } : {}),
    });
    out.push(unit(c, 3), unit(c + 3, 2));
    for (let i = 5; i < 10; i++) out.push(unit(c + i, 1));
  }
  return out;
}

export interface ThroughputResult extends Scenario {
  design: "ours" | "reference";
  seconds: number;
  playersPerSec: number;
  assignedPlayers: number;
  /** Calls the clients made (awaited round trips) per player, enqueue and assign together. */
  roundTripsPerPlayer: number;
  /** Fire-and-forget commands per player (reference only; they cost the server, not a round trip). */
  fireAndForgetPerPlayer: number;
  /** Commands the server processed per player (INFO total_commands_processed). */
  serverCommandsPerPlayer: number;
  /** Redis server CPU (used_cpu_sys + used_cpu_user) per player, µs. */
  redisCpuMicrosPerPlayer: number;
  /** Time of one batch call (ours: one enqueue call; reference: one BatchAddPlayers), ms. */
  batchMsP50: number;
  batchMsP99: number;
  assignPasses: number;
  /** Players never assigned (reference: lost to its read-modify-write races). */
  lostPlayers?: number;
  /** Of those, players whose addPlayers step threw (reference: Int32.Parse of a session flushed meanwhile). */
  failedPlayers?: number;
  /** Anything that went wrong (rejected players, players left unassigned), in words. */
  notes: string[];
  /** When the scenario ran several times: players/s of every run (this result is the median run). */
  runsPlayersPerSec?: number[];
}

const REGION = "bench";

function modesFor(s: Scenario): string[] {
  return Array.from({ length: s.buckets }, (_, i) => `m${i}`);
}

/** Players are dealt to buckets round-robin, so every bucket gets players/buckets (a multiple of the size). */
export function scenarioPlayers(s: Scenario): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const perRound = s.buckets * s.sessionSize;
  const unit = (perRound * s.batchSize) / gcd(perRound, s.batchSize);
  return Math.max(unit, Math.round(s.players / unit) * unit);
}

/** What the server did per player (INFO deltas) and how long one batch call took: measured alike for both designs. */
function serverCost(
  d: ServerDelta,
  players: number,
  batchMs: number[],
): Pick<ThroughputResult, "serverCommandsPerPlayer" | "redisCpuMicrosPerPlayer" | "batchMsP50" | "batchMsP99"> {
  return {
    serverCommandsPerPlayer: d.commands / players,
    redisCpuMicrosPerPlayer: (d.cpuSeconds / players) * 1e6,
    batchMsP50: percentile(batchMs, 50),
    batchMsP99: percentile(batchMs, 99),
  };
}

/** Runs `call`, adding its duration (ms) to `samples`. */
async function timed<T>(samples: number[], call: () => Promise<T>): Promise<T> {
  const c0 = performance.now();
  const result = await call();
  samples.push(performance.now() - c0);
  return result;
}

/**
 * Players 0..players-1 in batches of `size`, each worker taking the next batch as soon as it is done with one;
 * returns how many players were sent (whole batches).
 */
async function fillInBatches<W>(workers: W[], players: number, size: number, send: (worker: W, firstPlayer: number) => Promise<unknown>): Promise<number> {
  const batches = Math.ceil(players / size);
  let next = 0;
  await Promise.all(
    workers.map(async (w) => {
      while (next < batches) await send(w, size * next++);
    }),
  );
  return batches * size;
}

function batchOf<T>(firstPlayer: number, size: number, make: (player: number) => T): T[] {
  return Array.from({ length: size }, (_, i) => make(firstPlayer + i));
}

/**
 * The assigner as the timer function runs it, without a pause while there is work: assign, then confirm the
 * announced sessions (the real timer publishes match-made, then confirms its outbox: that call counts too).
 * Ends once enqueueing is done and every player is assigned (or nothing is left to assign).
 */
async function assignUntilDone(assigner: MatchmakingStore, players: number, enqueueDone: () => boolean): Promise<{ assignedPlayers: number; passes: number }> {
  const deadline = Date.now() + 600_000;
  let assignedPlayers = 0;
  let passes = 0;
  for (;;) {
    const finishing = enqueueDone();
    const r = await assigner.assign(REGION); // the store's default batch limit, as the app calls it
    passes++;
    if (r.assigned.length) {
      await assigner.confirmAnnounced(
        REGION,
        r.assigned.map((a) => a.sessionId),
      );
      for (const a of r.assigned) assignedPlayers += a.players.length;
    } else if (finishing && r.unassignedSessions === 0) {
      return { assignedPlayers, passes };
    } else {
      await sleep(1);
    }
    if (finishing && assignedPlayers >= players) return { assignedPlayers, passes };
    if (Date.now() > deadline) throw new Error("assigner did not finish within 10 minutes");
  }
}

export async function runOurThroughput(url: string, admin: RawClient, s: Scenario, tag: string, o: { flush?: boolean } = {}): Promise<ThroughputResult> {
  if (o.flush !== false) await flushAll(admin);
  const players = scenarioPlayers(s);
  const modeNames = modesFor(s);
  if (s.rules && s.sessionSize !== 10) throw new Error("a ranked5v5 scenario has sessions of 10");
  const modes = Object.fromEntries(modeNames.map((m) => [m, s.rules ? RANKED_5V5 : s.sessionSize]));
  const conns: CountingConnection[] = [];
  const makeStore = async (): Promise<MatchmakingStore> => {
    const c = new CountingConnection(await createRedisConnection({ url, mode: "standalone" }));
    conns.push(c);
    return benchStore(c, `bench-${tag}`, modes);
  };
  const setup = await makeStore();
  const consumers = await Promise.all(Array.from({ length: s.consumers }, makeStore));
  const assigner = await makeStore();
  const notes: string[] = [];
  try {
    // Servers for every session, registered before the clock starts.
    const sessions = players / s.sessionSize;
    await forEachLimit(
      Array.from({ length: sessions }, (_, i) => i),
      32,
      async (i) => {
        const r = await setup.registerServer({ serverId: `srv-${i}`, region: REGION, address: `10.0.${(i >> 8) & 255}.${i & 255}:7777` });
        if (r.outcome === "rejected") throw new Error(`registerServer rejected: ${r.error} ${r.detail}`);
      },
    );
    const countBefore = conns.reduce((a, c) => a + c.calls, 0);
    const before = await snapshot(admin);
    let enqueueDone = false;
    let rejected = 0;
    const batchMs: number[] = [];
    const t0 = performance.now();
    const enqueuers = fillInBatches(consumers, players, s.batchSize, async (st, first) => {
      const now = Date.now();
      const reqs = s.rules
        ? rankedBatch(first, s.batchSize, modeNames, now)
        : batchOf<EnqueueRequest>(first, s.batchSize, (p) => ({
            ticketId: `t${p}`,
            playerId: `p${p}`,
            mode: modeNames[p % s.buckets]!,
            region: REGION,
            requestedAtMs: now,
          }));
      const res = await timed(batchMs, () => st.enqueue(reqs));
      for (const r of res.results) if (r.outcome !== "queued") rejected++;
    });
    const assignerLoop = assignUntilDone(assigner, players, () => enqueueDone);
    await enqueuers;
    enqueueDone = true;
    const { assignedPlayers, passes } = await assignerLoop;
    const seconds = (performance.now() - t0) / 1000;
    const d = delta(before, await snapshot(admin));
    const calls = conns.reduce((a, c) => a + c.calls, 0) - countBefore;
    if (rejected) notes.push(`${rejected} enqueue results were not "queued"`);
    if (assignedPlayers !== players) notes.push(`${players - assignedPlayers} of ${players} players were not assigned`);
    return {
      design: "ours",
      ...s,
      players,
      seconds,
      playersPerSec: assignedPlayers / seconds,
      assignedPlayers,
      roundTripsPerPlayer: calls / players,
      fireAndForgetPerPlayer: 0,
      ...serverCost(d, players, batchMs),
      assignPasses: passes,
      notes,
    };
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}

export async function runReferenceThroughput(url: string, admin: RawClient, s: Scenario, tag: string, o: { flush?: boolean } = {}): Promise<ThroughputResult> {
  if (o.flush !== false) await flushAll(admin);
  const players = scenarioPlayers(s);
  const modeNames = modesFor(s);
  const prefix = `ref-${tag}`;
  const clients: CountingClient[] = [];
  const make = async (): Promise<ReferenceMatchmaker> => {
    const c = new CountingClient(await connect(url));
    clients.push(c);
    return new ReferenceMatchmaker(c, { prefix, capacityMax: s.sessionSize });
  };
  const setup = await make();
  const consumers = await Promise.all(Array.from({ length: s.consumers }, make));
  const assigner = await make();
  const notes: string[] = [];
  try {
    const sessions = players / s.sessionSize;
    const servers = Array.from({ length: sessions }, (_, i) => ({ serverguid: `srv-${i}`, serveripandport: `10.0.${(i >> 8) & 255}.${i & 255}:7777` }));
    for (let i = 0; i < servers.length; i += 1000) {
      setup.addServers(servers.slice(i, i + 1000));
      await clients[0]!.call(["PING"]);
    }
    const countBefore = clients.reduce((a, c) => a + c.roundTrips, 0);
    const ffBefore = clients.reduce((a, c) => a + c.fireAndForget, 0);
    const before = await snapshot(admin);
    let enqueueDone = false;
    const batchMs: number[] = [];
    let errors = 0;
    const t0 = performance.now();
    const enqueuers = fillInBatches(consumers, players, s.batchSize, async (ref, first) => {
      const batch = batchOf<RefPlayer>(first, s.batchSize, (p) => ({ GUID: `p${p}`, Name: `player ${p}`, MatchmakingSettings: modeNames[p % s.buckets]! }));
      const r = await timed(batchMs, () => ref.addPlayers(batch));
      errors += r.errors.length;
    });
    let assignedPlayers = 0;
    let passes = 0;
    const assignerLoop = (async () => {
      const deadline = Date.now() + 600_000;
      for (;;) {
        const finishing = enqueueDone;
        const r = await assigner.readySessions();
        passes++;
        for (const m of r.sent) assignedPlayers += m.GUIDs.length;
        if (r.sent.length === 0) {
          if (finishing) return;
          await sleep(1);
        }
        if (Date.now() > deadline) throw new Error("reference assigner did not finish within 10 minutes");
      }
    })();
    await enqueuers;
    // Fire-and-forget writes of the last players must have reached Redis before the assigner's last pass.
    await Promise.all(clients.map((c) => c.client.sendCommand(["PING"])));
    enqueueDone = true;
    await assignerLoop;
    const seconds = (performance.now() - t0) / 1000;
    const d = delta(before, await snapshot(admin));
    const rts = clients.reduce((a, c) => a + c.roundTrips, 0) - countBefore;
    const ffs = clients.reduce((a, c) => a + c.fireAndForget, 0) - ffBefore;
    return {
      design: "reference",
      ...s,
      players,
      seconds,
      // The reference is credited with every player it processed, assigned or stranded: the work per player is
      // the same, and crediting only assigned players would make our ratio look better than it is.
      playersPerSec: players / seconds,
      assignedPlayers,
      roundTripsPerPlayer: rts / players,
      fireAndForgetPerPlayer: ffs / players,
      ...serverCost(d, players, batchMs),
      assignPasses: passes,
      lostPlayers: players - assignedPlayers,
      failedPlayers: errors,
      notes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.client.close().catch(() => undefined)));
  }
}

/** The run with the median players/s, carrying every run's players/s for the record. */
export function medianRun(runs: ThroughputResult[]): ThroughputResult {
  const sorted = [...runs].sort((a, b) => a.playersPerSec - b.playersPerSec);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...median, runsPlayersPerSec: runs.map((r) => r.playersPerSec) };
}

export interface MemoryResult {
  design: "ours" | "reference";
  players: number;
  bytesPerWaitingPlayer: number;
}

/** used_memory growth with `players` waiting (4-player sessions, 10 buckets, no servers, no assign). */
export async function measureOurMemory(url: string, admin: RawClient, players: number, consumers: number): Promise<MemoryResult> {
  await flushAll(admin);
  const modes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, 4]));
  const conns = await Promise.all(Array.from({ length: consumers }, () => createRedisConnection({ url, mode: "standalone" })));
  try {
    const stores = conns.map((c) => benchStore(c, "mem", modes));
    // One warm-up call so script loading is not counted as player memory.
    await stores[0]!.enqueue([{ ticketId: "warm", playerId: "warm", mode: "m0", region: "memwarm", requestedAtMs: Date.now() }]);
    const before = await snapshot(admin);
    const sent = await fillInBatches(stores, players, 100, (st, first) =>
      st.enqueue(batchOf(first, 100, (p) => ({ ticketId: `t${p}`, playerId: `p${p}`, mode: `m${p % 10}`, region: REGION, requestedAtMs: Date.now() }))),
    );
    const after = await snapshot(admin);
    return { design: "ours", players: sent, bytesPerWaitingPlayer: (after.usedMemory - before.usedMemory) / sent };
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}

export async function measureReferenceMemory(url: string, admin: RawClient, players: number, consumers: number): Promise<MemoryResult> {
  await flushAll(admin);
  const clients = await Promise.all(Array.from({ length: consumers }, async () => new CountingClient(await connect(url))));
  try {
    const refs = clients.map((c) => new ReferenceMatchmaker(c, { prefix: "mem", capacityMax: 4 }));
    const before = await snapshot(admin);
    const sent = await fillInBatches(refs, players, 100, (ref, first) =>
      ref.addPlayers(batchOf<RefPlayer>(first, 100, (p) => ({ GUID: `p${p}`, Name: `player ${p}`, MatchmakingSettings: `m${p % 10}` }))),
    );
    await Promise.all(clients.map((c) => c.client.sendCommand(["PING"]))); // the last fire-and-forget writes
    const after = await snapshot(admin);
    return { design: "reference", players: sent, bytesPerWaitingPlayer: (after.usedMemory - before.usedMemory) / sent };
  } finally {
    await Promise.all(clients.map((c) => c.client.close().catch(() => undefined)));
  }
}

export interface ScriptCostResult {
  players: number;
  sessionSize: number;
  /** Redis CPU per player for enqueue alone (batches of 100, no servers, one connection), µs. */
  enqueueCpuMicrosPerPlayer: number;
  /** Commands Redis ran per player for enqueue (the script call and every redis.call inside it). */
  enqueueCommandsPerPlayer: number;
  /** Redis CPU per player for assign + confirmAnnounced alone, µs. */
  assignCpuMicrosPerPlayer: number;
  assignCommandsPerPlayer: number;
}

/**
 * Where the Redis CPU of our design goes: enqueue and assign measured apart, one connection, nothing else
 * running, so each delta of INFO belongs to one operation. The numbers to optimise the Lua scripts against.
 */
export async function measureOurScriptCost(url: string, admin: RawClient, players: number): Promise<ScriptCostResult> {
  await flushAll(admin);
  const sessionSize = 4;
  const modes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, sessionSize]));
  const conn = await createRedisConnection({ url, mode: "standalone" });
  try {
    const st = benchStore(conn, "cost", modes);
    const n = Math.ceil(players / 400) * 400;
    // Warm-up (script loading) outside the measurement.
    await st.enqueue([{ ticketId: "warm", playerId: "warm", mode: "m0", region: "warm", requestedAtMs: Date.now() }]);
    await st.assign("warm");
    let before = await snapshot(admin);
    // One connection: the batches go one after another.
    await fillInBatches([st], n, 100, (st1, first) =>
      st1.enqueue(batchOf(first, 100, (p) => ({ ticketId: `t${p}`, playerId: `p${p}`, mode: `m${p % 10}`, region: REGION, requestedAtMs: Date.now() }))),
    );
    let d = delta(before, await snapshot(admin));
    const enqueueCpu = d.cpuSeconds;
    const enqueueCommands = d.commands;
    await forEachLimit(
      Array.from({ length: n / sessionSize }, (_, i) => i),
      16,
      async (i) => void (await st.registerServer({ serverId: `s${i}`, region: REGION, address: `10.2.${(i >> 8) & 255}.${i & 255}:7777` })),
    );
    before = await snapshot(admin);
    for (;;) {
      const r = await st.assign(REGION);
      if (!r.assigned.length) break;
      await st.confirmAnnounced(
        REGION,
        r.assigned.map((a) => a.sessionId),
      );
    }
    d = delta(before, await snapshot(admin));
    return {
      players: n,
      sessionSize,
      enqueueCpuMicrosPerPlayer: (enqueueCpu / n) * 1e6,
      enqueueCommandsPerPlayer: enqueueCommands / n,
      assignCpuMicrosPerPlayer: (d.cpuSeconds / n) * 1e6,
      assignCommandsPerPlayer: d.commands / n,
    };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
