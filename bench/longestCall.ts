/**
 * The longest single script call at the largest batch and pool (issue 11): how long one call of each
 * looping operation keeps Redis busy when a region holds a large pool. Every operation is capped by work per
 * call and the store loops, so no call should reach 10 ms however large the pool.
 *
 * Three pools, as in test/store/scriptTime.test.ts: FIFO sessions of 100 (the most players one assign call
 * can take), a 5v5 skill mode with parties (bench/core.ts RANKED_5V5), and a latency mode's pool over a zone
 * of 3 regions (issue 14; `latencyPool`, which the test runs too). Enqueued in batches of 500 requests (the
 * most one enqueue call accepts). Each pool runs twice (deterministic: fixed ids, a test clock), and a call
 * counts by the lower of its two Redis CPU times (bench/scriptCpu.ts: why).
 */
import { createRedisConnection, MatchmakingStore, type EnqueueRequest, type LeaveRequest, type LeaveResult, type RedisConnection } from "../src/store";
import type { ModeSpec } from "../src/domain/modeRules";
import { seededRandom } from "../tools/seededRandom";
import { RANKED_5V5, rankedBatch } from "./core";
import { flushAll, progress, type RawClient } from "./redisProbe";
import { lowerOfTwo, mainThreadCpuClock, redisPid, timedConnection, type ScriptCall } from "./scriptCpu";

export const SCRIPT_CALL_LIMIT_MS = 10;

export interface LongestCallPhase {
  pool: "fifo100" | "ranked5v5" | "latency3";
  phase: string;
  calls: number;
  /** Lower of the two runs, call by call; the worst such call. */
  longestMs: number;
  script: string;
  /** The worst call of each run on its own (what one noisy run would have said). */
  singleRunLongestMs: [number, number];
}

export type LongestCallResult =
  { available: true; poolPlayers: number; batchRequests: number; phases: LongestCallPhase[] } | { available: false; reason: string };

const REGION = "bench";
const BATCH = 500;

type Recorder = (phase: string) => void;

/** A fixed clock the scenario moves by hand, so both runs make the same calls. */
function testClock(): { now: () => number; advance: (ms: number) => void } {
  let ms = Date.UTC(2026, 0, 1, 12);
  return { now: () => ms, advance: (d) => void (ms += d) };
}

function storeOf(
  conn: RedisConnection,
  prefix: string,
  modes: Record<string, ModeSpec>,
  now: () => number,
  layout: { regions?: readonly string[]; zones?: Record<string, string> } = {},
): MatchmakingStore {
  return new MatchmakingStore(conn, { prefix, modes, serverLeaseSeconds: 3600, ticketRetentionSeconds: 3600, clock: now, ...layout });
}

async function servers(st: MatchmakingStore, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++)
    await st.registerServer({ serverId: `${tag}${i}`, region: REGION, address: `10.${tag === "f" ? 3 : 4}.${i >> 8}.${i & 255}:7000` });
}

async function enqueueAll(st: MatchmakingStore, batches: EnqueueRequest[][]): Promise<void> {
  for (const b of batches) await st.enqueue(b);
}

/** FIFO sessions of 100: enqueue the pool, assign 1 server per session, claim + confirm, then a pool of 2-player sessions goes stale. */
async function fifoPool(conn: RedisConnection, prefix: string, players: number, mark: Recorder): Promise<void> {
  const clock = testClock();
  const st = storeOf(conn, prefix, { big: 100, duel: 2 }, clock.now);
  const req = (p: number, mode: string): EnqueueRequest => ({ ticketId: `t${p}`, playerId: `p${p}`, mode, region: REGION, requestedAtMs: clock.now() });
  const batchesOf = (from: number, mode: string) =>
    Array.from({ length: players / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => req(from + b * BATCH + i, mode)));
  mark("");
  await enqueueAll(st, batchesOf(0, "big"));
  mark("enqueue");
  await servers(st, players / 100, "f");
  mark("");
  clock.advance(1000);
  await st.assign(REGION);
  mark("assign (100 players per session)");
  clock.advance(10_000);
  const claimed = await st.claimUnannounced(REGION, { olderThanMs: 5000 });
  await st.confirmAnnounced(
    REGION,
    claimed.map((a) => a.sessionId),
  );
  mark("claim + confirm the outbox");
  await enqueueAll(st, batchesOf(players, "duel"));
  mark("");
  clock.advance(60_000);
  await st.expireStale(REGION, { playerMaxAgeMs: 30_000, sessionMaxAgeMs: 3_600_000 });
  mark("expireStale (the whole pool)");
}

/** The 5v5 skill mode with parties: enqueue, regroup under a widened window, assign, expiry of the rest. */
async function rankedPool(conn: RedisConnection, prefix: string, players: number, mark: Recorder): Promise<void> {
  const clock = testClock();
  const st = storeOf(conn, prefix, { ranked: RANKED_5V5 }, clock.now);
  mark("");
  for (let first = 0; first < players; first += BATCH) {
    await st.enqueue(rankedBatch(first, BATCH, ["ranked"], clock.now()));
    clock.advance(50);
  }
  mark("enqueue");
  clock.advance(20_000);
  await st.regroup(REGION);
  mark("regroup");
  await servers(st, Math.min(1000, players / 10), "r");
  mark("");
  await st.assign(REGION);
  mark("assign (5v5 sessions)");
  clock.advance(120_000);
  await st.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000 });
  mark("expireStale");
}

/** The latency pool's zone: three regions sharing one hash slot, so one pool (issue 14). */
export const LATENCY_ZONE = ["lat-west", "lat-north", "lat-south"];
/** Sessions of 10 solo tickets within 40 ms at first, 90 ms after 10 s of waiting, 200 ms after 30 s. */
export const LATENCY_MODES: Record<string, ModeSpec> = {
  geo: {
    teamSize: 10,
    latency: {
      max: 40,
      widen: [
        { afterSeconds: 10, max: 90 },
        { afterSeconds: 30, max: 200 },
      ],
    },
  },
};
/** The store options of the latency pool's zone. */
export const LATENCY_LAYOUT = { regions: LATENCY_ZONE, zones: Object.fromEntries(LATENCY_ZONE.map((r) => [r, "z"])) };

/** What the latency pool scenario did, for the test to check that the work was done. */
export interface LatencyPoolCounts {
  enqueued: number;
  queued: number;
  pooledAtEnqueue: number;
  placedByWidening: number;
  left: number;
  leftFromPool: number;
  refilled: number;
  expired: number;
}

/**
 * A latency mode's pool over a zone of 3 regions (issue 14): `players` solo tickets with varied latencies,
 * four in five too far from every region to be placed at first. 10 s later the widened max lets 20 sweeps
 * place many at once; every 40th ticket leaves (pooled ones from the pool, placed ones from their region,
 * reopening their sessions, which 5 sweeps refill from the pool); after 2 minutes the rest expire. Only the
 * store's public API (LATENCY_LAYOUT's store): the test and the bench both run it. `mark("")` drops the calls
 * since the last mark, `mark(phase)` records them as that phase.
 */
export async function latencyPool(
  st: MatchmakingStore,
  clock: { now: () => number; advance: (ms: number) => unknown },
  players: number,
  mark: (phase: string) => void | Promise<void>,
): Promise<LatencyPoolCounts> {
  const rnd = seededRandom(1414);
  const sweeper = LATENCY_ZONE[0]!;
  const tickets: EnqueueRequest[] = [];
  const counts: LatencyPoolCounts = { enqueued: 0, queued: 0, pooledAtEnqueue: 0, placedByWidening: 0, left: 0, leftFromPool: 0, refilled: 0, expired: 0 };
  await mark("");
  for (let first = 0; first < players; first += BATCH) {
    const batch: EnqueueRequest[] = [];
    for (let i = first; i < Math.min(players, first + BATCH); i++) {
      // A fifth near (5-40 ms to its nearest region), most 45-85 ms (placeable after 10 s), some 95-190 (after 30 s).
      const r = rnd();
      const nearest = r < 0.2 ? 5 + rnd() * 35 : r < 0.85 ? 45 + rnd() * 40 : 95 + rnd() * 95;
      const home = Math.floor(rnd() * LATENCY_ZONE.length);
      const latencies: Record<string, number> = {};
      LATENCY_ZONE.forEach((region, k) => {
        if (k === home || rnd() < 0.8) latencies[region] = Math.round(k === home ? nearest : nearest + 5 + rnd() * 60);
      });
      batch.push({ ticketId: `l${i}`, playerId: `lp${i}`, mode: "geo", region: LATENCY_ZONE[home]!, requestedAtMs: clock.now(), latencies });
    }
    const out = await st.enqueue(batch);
    counts.enqueued += batch.length;
    counts.queued += out.results.filter((x) => x.outcome === "queued").length;
    counts.pooledAtEnqueue += out.results.filter((x) => x.outcome === "queued" && x.pooled).length;
    tickets.push(...batch);
    clock.advance(20);
  }
  await mark("enqueue");

  clock.advance(10_000);
  for (let sweep = 0; sweep < 20; sweep++) counts.placedByWidening += (await st.regroup(sweeper)).readySessions.length;
  await mark("sweeps after widening");

  // One leave call per region a ticket is in (a leave's regions run concurrently, and overlapping calls would
  // share their CPU measurements): a placed ticket's record shows the region it was placed in.
  const byRegion = new Map<string, LeaveRequest[]>();
  for (let i = 0; i < tickets.length; i += 40) {
    const t = tickets[i]!;
    const where = (await st.getPlayer(t.region, t.playerId))?.region ?? t.region;
    byRegion.set(where, [...(byRegion.get(where) ?? []), { playerId: t.playerId, ticketId: t.ticketId, region: t.region, reason: "cancelled" }]);
  }
  await mark("");
  const left: LeaveResult[] = [];
  for (const region of LATENCY_ZONE) if (byRegion.has(region)) left.push(...(await st.leave(byRegion.get(region)!)));
  counts.left = left.filter((x) => x.outcome === "left").length;
  counts.leftFromPool = left.filter((x) => x.outcome === "left" && x.sessionId === undefined).length;
  await mark("leave");
  clock.advance(1000);
  for (let sweep = 0; sweep < 5; sweep++) counts.refilled += (await st.regroup(sweeper)).readySessions.length;
  await mark("refill sweeps");

  clock.advance(120_000);
  counts.expired = (await st.expireStale(sweeper, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000 })).expiredPlayers.length;
  await mark("expireStale");
  return counts;
}

/** Runs every pool twice on the bench's redis-server (flushed first) and reports every phase's longest call. */
export async function measureLongestCalls(url: string, admin: RawClient, players: number): Promise<LongestCallResult> {
  const conn = await createRedisConnection({ url, mode: "standalone" });
  try {
    const clock = mainThreadCpuClock(await redisPid(conn));
    if ("unavailable" in clock) return { available: false, reason: clock.unavailable };
    const phases: LongestCallPhase[] = [];
    const latency = async (c: RedisConnection, prefix: string, n: number, mark: Recorder) => {
      const clock = testClock();
      await latencyPool(storeOf(c, prefix, LATENCY_MODES, clock.now, LATENCY_LAYOUT), clock, n, mark);
    };
    for (const [pool, run] of [
      ["fifo100", fifoPool],
      ["ranked5v5", rankedPool],
      ["latency3", latency],
    ] as const) {
      const runs: Map<string, ScriptCall[]>[] = [];
      for (let rep = 1; rep <= 2; rep++) {
        progress(`longest script call: ${pool} pool of ${players.toLocaleString("en-US")} players, run ${rep}/2`);
        await flushAll(admin);
        const sink = { calls: [] as ScriptCall[] };
        const byPhase = new Map<string, ScriptCall[]>();
        await run(timedConnection(conn, clock.read, sink), `lc-${pool}`, players, (phase) => {
          if (phase) byPhase.set(phase, sink.calls);
          sink.calls = [];
        });
        runs.push(byPhase);
      }
      const [a, b] = runs as [Map<string, ScriptCall[]>, Map<string, ScriptCall[]>];
      for (const [phase, first] of a) {
        const second = b.get(phase) ?? [];
        const worst = lowerOfTwo(first, second);
        const max = (calls: ScriptCall[]) => Math.max(0, ...calls.map((c) => c.micros)) / 1000;
        phases.push({ pool, phase, calls: first.length, longestMs: worst.micros / 1000, script: worst.what, singleRunLongestMs: [max(first), max(second)] });
      }
    }
    await flushAll(admin);
    return { available: true, poolPlayers: players, batchRequests: BATCH, phases };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
