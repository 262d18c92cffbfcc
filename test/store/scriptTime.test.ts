/**
 * Issue 9: scripts blocked Redis for long (assign of 1,000 sessions x 100 players 904 ms, expireStale of
 * 100k players 1.46 s). Every call is now capped by work and the store loops. This builds a large pool on
 * a private redis-server, drives every looping operation over it, and checks that no single script call
 * kept Redis busy for 10 ms or more while all the work was done.
 *
 * What is measured: the CPU time of redis-server's main thread (the one that runs scripts) during each
 * call, from /proc/<pid>/schedstat (nanoseconds; the calls are sequential and nothing else talks to this
 * server). That is how long the call blocks Redis on an idle machine, and it does not grow when other
 * processes compete for the cores. The SLOWLOG's wall-clock durations are printed beside it: on a shared,
 * overloaded machine they include the time the kernel ran other processes, so they are reported, not asserted.
 *
 * Even CPU time is noisy on a shared VM: a fixed Lua loop measured here ranged 5.5-15 ms, and single calls of
 * these scenarios measured 3-4x their neighbours at a different call each run (CI failed on one such call).
 * So each scenario, which is deterministic (seeded, test clock), runs twice on its own key prefix, and a call
 * counts by the lower of its two measurements: a call that really does too much work is over the limit in both
 * runs, a passing disturbance in one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATENCY_LAYOUT, LATENCY_MODES, latencyPool } from "../../bench/longestCall";
import { lowerOfTwo, timedConnection, type ScriptCall } from "../../bench/scriptCpu";
import type { EnqueueRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import { startTimedRedisServer, type TimedRedisServer } from "../support/timedRedisServer";
import { checkInvariants, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";
import { prng } from "./concurrencyScenario";
import { RULES_MODES, RULES_SIZES } from "./rulesInvariants";

const BIG_MODES = { big: 100, duel: 2 };
const POOL = 100_000;
const LIMIT_US = 10_000;

let timedServer: TimedRedisServer | undefined;
let redis: RedisConnection;
/** CPU time of every script call since the last take(), in microseconds, with the call's script name. */
let recorded: { calls: ScriptCall[] } = { calls: [] };
let cpuNs: () => number = () => NaN;

/** The connection with every script call timed by redis-server's main-thread CPU time (bench/scriptCpu.ts). */
const timed = (inner: RedisConnection): RedisConnection =>
  timedConnection(inner, () => cpuNs(), {
    get calls() {
      return recorded.calls;
    },
  });

beforeAll(async () => {
  timedServer = await startTimedRedisServer(["--slowlog-log-slower-than", "0", "--slowlog-max-len", "100000"]);
  ({ redis, cpuNs } = timedServer);
}, 60_000);
afterAll(() => timedServer?.stop());

type SlowEntry = [id: number, at: number, micros: number, args: string[]];

/** The script calls since the last take(): their longest CPU time, and the longest SLOWLOG (wall-clock) time. */
async function take(): Promise<{ calls: ScriptCall[]; maxWallMicros: number }> {
  const cpu = recorded.calls;
  recorded = { calls: [] };
  if (process.env.STORE_DEBUG)
    console.log(
      cpu
        .map((c, i) => [i, Math.round(c.micros)])
        .sort((a, b) => b[1]! - a[1]!)
        .slice(0, 8)
        .join(" "),
      "median",
      [...cpu].sort((a, b) => a.micros - b.micros)[cpu.length >> 1]?.micros,
      "around 100:",
      cpu
        .slice(90, 110)
        .map((c) => Math.round(c.micros))
        .join(" "),
    );
  const wall = await slowlogScripts();
  return { calls: cpu, maxWallMicros: wall.maxMicros };
}

/** The slowest script call in the SLOWLOG since the last reset (wall clock), and how many there were. */
async function slowlogScripts(): Promise<{ calls: number; maxMicros: number; slowest: string }> {
  const entries = await redis.command<SlowEntry[]>("any", ["SLOWLOG", "GET", "-1"]);
  await redis.command("any", ["SLOWLOG", "RESET"]);
  let maxMicros = 0;
  let slowest = "";
  let calls = 0;
  for (const [, , micros, args] of entries) {
    if (args[0] !== "EVALSHA" && args[0] !== "EVAL") continue;
    calls++;
    if (micros > maxMicros) {
      maxMicros = micros;
      slowest = args.slice(0, 6).join(" ").slice(0, 200);
    }
  }
  return { calls, maxMicros, slowest };
}

async function enqueueMany(store: MatchmakingStore, clock: TestClock, from: number, n: number, mode: string): Promise<void> {
  for (let start = from; start < from + n; start += 5000) {
    const batch: EnqueueRequest[] = [];
    for (let i = start; i < Math.min(start + 5000, from + n); i++)
      batch.push({ ticketId: `t${i}`, playerId: `p${i}`, mode, region: REGION, requestedAtMs: clock.ms });
    const out = await store.enqueue(batch);
    expect(out.results.every((r) => r.outcome === "queued")).toBe(true);
  }
}

/** 100k FIFO players in 1,000 sessions of 100, 1,000 servers, then 100k stale players. */
async function fifoPool(measure: Measure, _note: (line: string) => void): Promise<void> {
  const clock = new TestClock();
  const prefix = uniquePrefix();
  const store = makeStore(timed(redis), clock, { prefix, modes: BIG_MODES });
  await take();

  await enqueueMany(store, clock, 0, POOL, "big");
  await measure("enqueue 100k");
  expect((await store.stats(REGION)).sessionsReady).toBe(POOL / 100);
  await measure("stats");

  for (let i = 0; i < 1000; i++) await store.registerServer({ serverId: `s${i}`, region: REGION, address: `10.0.${i >> 8}.${i & 255}:7000` });
  await take();
  clock.advance(1000);
  const assigned = await store.assign(REGION);
  expect(assigned.assigned).toHaveLength(1000);
  expect(assigned.assigned.every((a) => a.players.length === 100)).toBe(true);
  expect(assigned).toMatchObject({ unassignedSessions: 0, serversAvailable: 0 });
  await measure("assign 1,000 sessions x 100 players");

  clock.advance(10_000);
  const claimed = await store.claimUnannounced(REGION, { olderThanMs: 5000 });
  expect(claimed).toHaveLength(1000);
  await store.confirmAnnounced(
    REGION,
    claimed.map((a) => a.sessionId),
  );
  expect((await store.stats(REGION)).sessionsAnnouncing).toBe(0);
  await measure("claim + confirm 1,000");

  await enqueueMany(store, clock, POOL, POOL, "duel");
  await take();
  clock.advance(60_000);
  const stale = await store.expireStale(REGION, { playerMaxAgeMs: 30_000, sessionMaxAgeMs: 3_600_000 });
  expect(stale.expiredPlayers).toHaveLength(POOL);
  expect(stale.expiredSessions).toHaveLength(POOL / 2);
  await measure("expireStale 100k players");
  const stats = await store.stats(REGION);
  expect(stats).toMatchObject({ waitingPlayers: 0, sessionsOpen: 0, sessionsReady: 0, serversAllocated: 1000 });
  expect(await checkInvariants(new RawRegion(redis, prefix), BIG_MODES, [])).toEqual([]);
}

/** 100k players of a 5v5 skill mode with parties: enqueue, stats, regroup, leave, assign, expiry. */
async function rankedPool(measure: Measure, note: (line: string) => void): Promise<void> {
  const clock = new TestClock();
  const prefix = uniquePrefix();
  const store = makeStore(timed(redis), clock, { prefix, modes: RULES_MODES });
  const rnd = prng(4242);
  // Skill ~ normal(1500, 300) (Box-Muller); parties of 1-5 (70% solo), members within 100 of the leader.
  const skill = () => Math.round(1500 + 300 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
  await take();
  let players = 0;
  let t = 0;
  const leaders: EnqueueRequest[] = [];
  while (players < POOL) {
    const batch: EnqueueRequest[] = [];
    for (let i = 0; i < 1000 && players < POOL; i++) {
      const r = rnd();
      const size = Math.min(POOL - players, r < 0.7 ? 1 : r < 0.85 ? 2 : r < 0.93 ? 3 : r < 0.97 ? 4 : 5);
      const s = skill();
      const req: EnqueueRequest = { ticketId: `r${t}`, playerId: `r${t}`, mode: "ranked", region: REGION, requestedAtMs: clock.ms, skill: s };
      t++;
      if (size > 1) req.party = Array.from({ length: size - 1 }, () => ({ playerId: `r${t++}`, skill: s + Math.round((rnd() - 0.5) * 100) }));
      players += size;
      batch.push(req);
    }
    const out = await store.enqueue(batch);
    expect(out.results.every((x) => x.outcome === "queued")).toBe(true);
    leaders.push(...batch);
    clock.advance(200);
  }
  await measure("enqueue 100k ranked players (parties, skill)");
  const st = await store.stats(REGION);
  expect(st.waitingPlayers).toBe(POOL);
  expect(st.byMode?.ranked?.recentMatches).toBeGreaterThan(100);
  await measure("stats");
  clock.advance(20_000);
  const g = await store.regroup(REGION);
  note(`regroup: ${g.readySessions.length} sessions filled, ${g.mergedSessions.length} merged`);
  await measure("regroup the whole pool");
  const leaving = leaders
    .filter((_, i) => i % 50 === 0)
    .map((r) => ({ playerId: r.party?.[0]?.playerId ?? r.playerId, ticketId: r.ticketId, region: REGION, reason: "cancelled" as const }));
  expect((await store.leave(leaving)).every((x) => x.outcome === "left")).toBe(true);
  await measure(`leave ${leaving.length} tickets`);
  for (let i = 0; i < 1000; i++) await store.registerServer({ serverId: `rs${i}`, region: REGION, address: `10.1.${i >> 8}.${i & 255}:7000` });
  await take();
  const assigned = await store.assign(REGION);
  expect(assigned.assigned.length).toBeGreaterThan(100);
  expect(assigned.assigned.every((a) => a.teams?.length === 2 && a.quality !== undefined)).toBe(true);
  await measure(`assign ${assigned.assigned.length} 5v5 sessions`);
  // Backfill (issue 14): every running game asks for one player per team from the ~90k still waiting.
  for (const a of assigned.assigned) await store.requestBackfill({ serverId: a.serverId, sessionId: a.sessionId, slots: [1, 1] });
  await take();
  const fill = await store.fillBackfills(REGION);
  note(`backfill: ${fill.joins.reduce((n, j) => n + j.joined.length, 0)} players joined ${fill.joins.length} of ${assigned.assigned.length} games`);
  expect(fill.joins.length).toBeGreaterThan(assigned.assigned.length / 2);
  await measure(`fill ${assigned.assigned.length} backfill requests`);
  clock.advance(120_000);
  const stale = await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000 });
  expect(stale.expiredPlayers.length).toBeGreaterThan(10_000);
  await measure(`expireStale ${stale.expiredPlayers.length} players`);
  expect((await store.stats(REGION)).waitingPlayers).toBe(0);
  expect(await checkInvariants(new RawRegion(redis, prefix), RULES_SIZES, [])).toEqual([]);
}

const LATENCY_POOL = 50_000;
/** The four latency pool scripts: each must be called by the latency scenario (and every call judged). */
const LATENCY_SCRIPTS = ["poolLatencyTickets", "placeLatencyPool", "leaveLatencyPool", "expireLatencyPool"];

/**
 * A large latency pool (issue 14): bench/longestCall.ts latencyPool, which the bench's `calls` part runs too:
 * 50k solo tickets over a zone of 3 regions, most too far to be placed at first, then widened sweeps, leaves
 * (from the pool and from placed sessions, which the next sweeps refill) and expiry; every step must have
 * done its work. 50k, not 100k, to keep the file's run time: a pool call's cost is capped by anchors, not by
 * the pool's size (one sweep's placeLatencyPool calls measured 3-5 ms each at 20k, 50k and 100k tickets alike).
 */
async function latencyPoolUnderLimit(measure: Measure, note: (line: string) => void): Promise<void> {
  const clock = new TestClock();
  const store = makeStore(timed(redis), clock, { prefix: uniquePrefix(), modes: LATENCY_MODES, ...LATENCY_LAYOUT });
  const c = await latencyPool(store, clock, LATENCY_POOL, (phase) => (phase ? measure(phase) : take().then(() => undefined)));
  note(`latency pool: ${JSON.stringify(c)}`);
  expect(c.queued).toBe(LATENCY_POOL);
  // Most tickets wait at first; widening places many; both kinds of leave happen; sweeps refill; the rest expire.
  expect(c.pooledAtEnqueue).toBeGreaterThan(LATENCY_POOL / 2);
  expect(c.placedByWidening).toBeGreaterThan(200);
  expect(c.left).toBe(Math.ceil(LATENCY_POOL / 40));
  expect(c.leftFromPool).toBeGreaterThan(0);
  expect(c.leftFromPool).toBeLessThan(c.left);
  expect(c.refilled).toBeGreaterThan(0);
  // (About 23k of the 50k: the widened sweeps place 30 players per call and go on after the anchors they kept.)
  expect(c.expired).toBeGreaterThan(LATENCY_POOL / 4);
}

type Measure = (phase: string) => Promise<void>;
type Phase = { calls: ScriptCall[]; maxWallMicros: number };

/**
 * Runs a scenario twice and checks every phase: call i of a phase counts by the lower of its two CPU times.
 * The runs must make the same calls (same scripts in the same order), which the deterministic scenarios do.
 */
async function twiceUnderLimit(scenario: (measure: Measure, note: (line: string) => void) => Promise<void>): Promise<Set<string>> {
  const runs: Map<string, Phase>[] = [];
  const notes: string[] = [];
  for (let run = 0; run < 2; run++) {
    const phases = new Map<string, Phase>();
    await take();
    await scenario(
      async (phase) => {
        phases.set(phase, await take());
      },
      (line) => run === 0 && notes.push(line),
    );
    runs.push(phases);
  }
  const [a, b] = runs as [Map<string, Phase>, Map<string, Phase>];
  const ms = (us: number) => (us / 1000).toFixed(2);
  const report: string[] = [];
  const over: string[] = [];
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [phase, first] of a) {
    const second = b.get(phase)!;
    expect(first.calls.length, `${phase}: script calls`).toBeGreaterThan(0);
    expect(
      second.calls.map((c) => c.what),
      `${phase}: the two runs make the same calls`,
    ).toEqual(first.calls.map((c) => c.what));
    const worst = lowerOfTwo(first.calls, second.calls);
    const rawMax = (p: Phase) => Math.max(...p.calls.map((c) => c.micros));
    report.push(
      `${phase}: ${first.calls.length} script calls, longest ${ms(worst.micros)} ms Redis CPU (${worst.what}, lower of two runs; ` +
        `single-run longest ${ms(rawMax(first))} / ${ms(rawMax(second))} ms), longest wall clock ${ms(Math.max(first.maxWallMicros, second.maxWallMicros))} ms`,
    );
    if (worst.micros >= LIMIT_US) over.push(`${phase}: call ${worst.index} (${worst.what}) ${ms(worst.micros)} ms in both runs`);
  }
  console.log([...report, ...notes].join("\n"));
  expect(over).toEqual([]);
  return new Set([...a.values()].flatMap((p) => p.calls.map((c) => c.what)));
}

describe("no script call runs 10 ms or more at any pool size", () => {
  it("100k waiting players in 1,000 ready sessions, 1,000 servers, then 100k stale players: every looping call finishes all the work", async () => {
    await twiceUnderLimit(fifoPool);
  }, 480_000);

  it("100k waiting players of a 5v5 skill mode with parties: enqueue, regroup, leave, stats, assign and expiry stay under 10 ms per call", async () => {
    await twiceUnderLimit(rankedPool);
  }, 600_000);

  it("50k tickets in a 3-region zone's latency pool: pooling, widened sweeps, leaves and expiry stay under 10 ms per call", async () => {
    const scripts = await twiceUnderLimit(latencyPoolUnderLimit);
    expect(LATENCY_SCRIPTS.filter((s) => !scripts.has(s))).toEqual([]);
  }, 600_000);
});
