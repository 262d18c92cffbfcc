/**
 * Crash consistency: Redis does not roll back a script that fails halfway. A test-only wrapper around the
 * connection (never part of the store) rewrites a script so that it raises an error at its k-th failure
 * point, for every k: every read (`redis.call` of a non-writing command - the script computes on what it
 * read, and any of that can fail) and its first write (the point where Redis itself refuses an
 * out-of-memory script). Writes after the first are not failure points: with all input checked first, a
 * write with computed arguments on a key of the right type cannot fail. The property: after every injected
 * failure Redis is byte-for-byte (logically) as it was before the call, and the model's invariants hold;
 * and the call without a fault still succeeds. That holds exactly when a script does all its reads and
 * computations before its first write, which is how enqueuePlayers, leaveQueue, regroupSessions,
 * assignSessions, expireStale and claimUnannounced are written, and the latency pool's poolLatencyTickets,
 * placeLatencyPool and expireLatencyPool (the game-server scripts and leaveLatencyPool still interleave: see
 * consistency.md).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { MatchmakingStore, RedisConnection } from "../../src/store";
import { createHash } from "node:crypto";
import type { ModeSpec } from "../../src/domain/modeRules";
import { checkInvariants, connect, dumpPrefix, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";
import { allLatencyInvariants, LATENCY_MODES, LATENCY_REGIONS, LATENCY_ZONES } from "./latencySuite";

const WRITES = ["HSET", "HDEL", "DEL", "SET", "ZADD", "ZREM", "SADD", "SREM", "HINCRBY", "PEXPIRE", "PERSIST", "LPUSH", "LTRIM", "XADD", "EXPIRE", "INCR"];

/** The script with a fault at its `faultAt`-th failure point (a local `redis` shadows the global one). */
function withFault(body: string, faultAt: number): string {
  const hook = `local redis_real = redis
local fault_points, fault_writes = 0, 0
local FAULT_WRITES = { ${WRITES.map((w) => `${w} = true`).join(", ")} }
local redis = setmetatable({ call = function(cmd, ...)
  local write = FAULT_WRITES[string.upper(cmd)] == true
  if not write or fault_writes == 0 then
    fault_points = fault_points + 1
    if fault_points == ${faultAt} then error({ err = "INJECTED fault at failure point ${faultAt} (" .. cmd .. ")" }) end
  end
  if write then fault_writes = fault_writes + 1 end
  return redis_real.call(cmd, ...)
end }, { __index = redis_real })
`;
  const [first, ...rest] = body.split("\n");
  return [first, hook, ...rest].join("\n");
}

/** The connection with the next call of `script` (and only that one) faulted at `faultAt`. */
function faulty(inner: RedisConnection, script: string, faultAt: number): RedisConnection & { injected: () => boolean } {
  let armed = true;
  let injected = false;
  return {
    ...inner,
    injected: () => injected,
    runScript: async (firstKey, sha, body, keys, args) => {
      if (!armed || !body.startsWith(`local SCRIPT_NAME = '${script}'`)) return inner.runScript(firstKey, sha, body, keys, args);
      armed = false;
      const changed = withFault(body, faultAt);
      try {
        return await inner.runScript(firstKey, createHash("sha1").update(changed).digest("hex"), changed, keys, args);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith("INJECTED")) injected = true;
        throw err;
      }
    },
  };
}

let redis: RedisConnection;
beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
});
afterAll(async () => {
  await redis.close();
});

/** A region with waiting, ready, assigned and stale players and sessions, free and allocated servers. */
async function scene(store: MatchmakingStore, clock: TestClock): Promise<string[]> {
  const players: string[] = [];
  const req = (i: number, mode: string) => {
    players.push(`p${i}`);
    return { ticketId: `t${i}`, playerId: `p${i}`, mode, region: REGION, requestedAtMs: clock.ms };
  };
  await store.enqueue([0, 1, 2, 3, 4, 5].map((i) => req(i, "duel")));
  // Skill duels 300 apart: two sessions now; 120 s later their window (400) lets the regroup sweep merge them.
  await store.enqueue([
    { ...req(30, "duo"), skill: 2000 },
    { ...req(31, "duo"), skill: 2300 },
  ]);
  for (const s of ["s1", "s2"]) await store.servers.register({ serverId: s, region: REGION, address: `10.0.0.${s.slice(1)}:7000` });
  await store.assign(REGION);
  clock.advance(120_000);
  await store.enqueue([10, 11, 12, 13, 14, 15, 16].map((i) => req(i, i < 14 ? "squad" : "duel")));
  await store.enqueue([20].map((i) => req(i, "solo")));
  for (const s of ["s3", "s4"]) await store.servers.register({ serverId: s, region: REGION, address: `10.0.0.${s.slice(1)}:7000` });
  return players;
}

const CASES: {
  script: string;
  run: (s: MatchmakingStore) => Promise<unknown>;
  modes?: Record<string, ModeSpec>;
  /** More scene for this case, written before the dump the failed call is compared with. */
  prepare?: (s: MatchmakingStore) => Promise<unknown>;
}[] = [
  { script: "assignSessions", run: (s) => s.assign(REGION) },
  { script: "expireStale", run: (s) => s.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 100_000 }) },
  { script: "claimUnannounced", run: (s) => s.claimUnannounced(REGION, { olderThanMs: 1000 }) },
  // Only the skill duel as rules mode: the (first) regroup call is the one that has work.
  { script: "regroupSessions", run: (s) => s.regroup(REGION), modes: { duel: 2, squad: 4, solo: 1, duo: RULES_MODES.duo! } },
  {
    script: "enqueuePlayers",
    // New players joining open and fresh sessions, a redelivery, a live ticket, a matched player moving on.
    run: (s) =>
      s.enqueue([
        { ticketId: "n1", playerId: "n1", mode: "squad", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12, 2) },
        { ticketId: "t10", playerId: "p10", mode: "squad", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12) },
        { ticketId: "n2", playerId: "p11", mode: "squad", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12, 2) },
        { ticketId: "n3", playerId: "p0", mode: "duel", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12, 2) },
        { ticketId: "n4", playerId: "n4", mode: "duel", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12, 2) },
        { ticketId: "n5", playerId: "n5", mode: "solo", region: REGION, requestedAtMs: Date.UTC(2026, 0, 1, 12, 2) },
      ]),
  },
  {
    script: "fillBackfills",
    // The fresh servers s3 and s4 take the oldest ready sessions; each game asks for players (the duel
    // one gets waiting duel players from a ready and an open session, the squad one finds none waiting).
    prepare: async (s) => {
      for (const a of (await s.assign(REGION)).assigned) {
        await s.requestBackfill({ serverId: a.serverId, sessionId: a.sessionId, slots: [a.mode === "duel" ? 2 : 1] });
      }
    },
    run: (s) => s.fillBackfills(REGION),
  },
  {
    script: "leaveQueue",
    // Waiting players leaving (a ready session reopens), a matched one (assigned), a leave overtaking its enqueue.
    run: (s) =>
      s.leave([
        { playerId: "p14", ticketId: "t14", region: REGION, reason: "cancelled" },
        { playerId: "p10", ticketId: "t10", region: REGION, reason: "timedOut" },
        { playerId: "p0", ticketId: "t0", region: REGION, reason: "timedOut" },
        { playerId: "x1", ticketId: "x1", region: REGION, reason: "cancelled" },
        { playerId: "p20", ticketId: "t20", region: REGION, reason: "cancelled" },
      ]),
  },
];

/**
 * Runs `run` once per failure point of `script` (a fresh scene each time, `setUp` returning its players),
 * faulted there: the invariants hold after every call, a faulted call leaves Redis as it was, and the call
 * without a fault succeeds (and passes `check`). Returns how many failure points were tried.
 */
async function faultAtEveryPoint(o: {
  script: string;
  setUp: (prefix: string, clock: TestClock) => Promise<string[]>;
  store: (conn: RedisConnection, prefix: string, clock: TestClock) => MatchmakingStore;
  run: (s: MatchmakingStore, clock: TestClock) => Promise<unknown>;
  invariants: (prefix: string, players: string[]) => Promise<string[]>;
  check?: (s: MatchmakingStore) => Promise<boolean>;
}): Promise<number> {
  let points = 0;
  for (let faultAt = 1; faultAt < 1000; faultAt++) {
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const players = await o.setUp(prefix, clock);
    const conn = faulty(redis, o.script, faultAt);
    const store = o.store(conn, prefix, clock);
    const before = await dumpPrefix(redis, prefix);
    const outcome = await o.run(store, clock).then(
      () => "ok",
      (err: Error) => err.message,
    );
    expect(await o.invariants(prefix, players), `${o.script} fault ${faultAt} ${outcome}`).toEqual([]);
    if (!conn.injected()) {
      expect(outcome, `${o.script} without a fault`).toBe("ok");
      if (o.check) expect(await o.check(store), `${o.script}: the step did its work`).toBe(true);
      return points;
    }
    points++;
    expect(outcome).toMatch(/^INJECTED/);
    const after = await dumpPrefix(redis, prefix);
    const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
    expect(changed, `${o.script} failed at point ${faultAt} and left writes behind`).toEqual([]);
  }
  throw new Error(`${o.script}: still failing after 1000 failure points`);
}

describe("a script failing at any of its failure points leaves nothing behind", () => {
  it.each(CASES.map((c) => [c.script, c] as const))("%s", async (_name, c) => {
    const points = await faultAtEveryPoint({
      script: c.script,
      // The scene's players and the new ones the enqueue and leave cases bring.
      setUp: async (prefix, clock) => {
        const players = [...(await scene(makeStore(redis, clock, { prefix, modes: RULES_MODES }), clock)), "n1", "n4", "n5", "x1"];
        if (c.prepare) await c.prepare(makeStore(redis, clock, { prefix, modes: RULES_MODES }));
        return players;
      },
      store: (conn, prefix, clock) => makeStore(conn, clock, { prefix, modes: c.modes ?? RULES_MODES }),
      run: (st) => c.run(st),
      invariants: async (prefix, players) => {
        const raw = new RawRegion(redis, prefix);
        return [...(await checkInvariants(raw, RULES_SIZES, players)), ...(await checkRulesInvariants(raw, RULES, players))];
      },
    });
    // The scene gives every script real work: several failure points were tried.
    expect(points).toBeGreaterThan(3);
  });
});

/**
 * The latency pool of a ranked 5v5 (parties, skill window, latency max; issue 14) over a zone of three
 * regions: a placed session a leaver reopened, pooled units that fit it once the max widened, pooled units
 * near 3500 that an enqueue completes into a group, a party, a far ticket.
 */
async function latencyScene(store: MatchmakingStore, clock: TestClock): Promise<string[]> {
  const players: string[] = [];
  let n = 0;
  const t = (pid: string, skill: number, ms: number, party: string[] = []) => {
    players.push(pid, ...party);
    return {
      ticketId: `lt${++n}`,
      playerId: pid,
      mode: "ranked",
      region: "westeurope",
      requestedAtMs: clock.ms,
      skill,
      latencies: { westeurope: ms, northeurope: ms + 10 },
      ...(party.length ? { party: party.map((m) => ({ playerId: m, skill })) } : {}),
    };
  };
  await store.servers.register({ serverId: "ls1", region: "northeurope", address: "10.1.0.1:7000" });
  // A group of ten near 1500 (a party of three among them), placed; then the party leaves: the session reopens.
  await store.enqueue([t("g0", 1500, 20, ["g1", "g2"]), ...[3, 4, 5, 6, 7, 8, 9].map((i) => t(`g${i}`, 1490 + i, 20 + i))]);
  await store.leave([{ playerId: "g1", ticketId: "lt1", region: "westeurope", reason: "cancelled" }]);
  // Pooled: a far party of three near 1500 (fits the reopened session once the max widened), eight near 3500, a far solo.
  await store.enqueue([
    t("f0", 1510, 100, ["f1", "f2"]),
    t("h0", 3500, 20, ["h1"]),
    ...[2, 3, 4, 5, 6, 7].map((i) => t(`h${i}`, 3500 + i, 30)),
    t("far", 800, 140),
  ]);
  clock.advance(21_000);
  return players;
}

const LATENCY_CASES: {
  script: string;
  run: (s: MatchmakingStore, clock: TestClock) => Promise<unknown>;
  /** After the call without a fault: it did the work the scene sets up. */
  check: (s: MatchmakingStore) => Promise<boolean>;
}[] = [
  {
    script: "poolLatencyTickets",
    // Two near 3500 complete a group with the eight pooled ones; a redelivery; a party with a pooled member; a new far one.
    run: (s, clock) =>
      s.enqueue([
        { ticketId: "n1", playerId: "n1", mode: "ranked", region: "westeurope", requestedAtMs: clock.ms, skill: 3510, latencies: { westeurope: 25 } },
        { ticketId: "n2", playerId: "n2", mode: "ranked", region: "westeurope", requestedAtMs: clock.ms, skill: 3490, latencies: { westeurope: 15 } },
        {
          ticketId: "lt12",
          playerId: "far",
          mode: "ranked",
          region: "westeurope",
          requestedAtMs: clock.ms - 21_000,
          skill: 800,
          latencies: { westeurope: 140 },
        },
        {
          ticketId: "n3",
          playerId: "n3",
          mode: "ranked",
          region: "westeurope",
          requestedAtMs: clock.ms,
          skill: 1500,
          latencies: { westeurope: 20 },
          party: [{ playerId: "h2", skill: 1500 }],
        },
        { ticketId: "n4", playerId: "n4", mode: "ranked", region: "westeurope", requestedAtMs: clock.ms, skill: 5000, latencies: { uksouth: 90 } },
      ]),
    check: async (s) =>
      (await s.getPlayer("westeurope", "n1"))?.state === "waiting" &&
      (await s.getPlayer("westeurope", "h5"))?.sessionId === (await s.getPlayer("westeurope", "n1"))?.sessionId &&
      (await s.getPlayer("westeurope", "n3")) === null &&
      (await s.getPlayer("westeurope", "n4"))?.sessionId === undefined,
  },
  // The sweep: the far party completes the reopened session (placed in northeurope, where the free server is;
  // the max is 150 after 20 s), the eight near 3500 wait.
  {
    script: "placeLatencyPool",
    run: (s) => s.regroup("westeurope"),
    check: async (s) =>
      (await s.getPlayer("westeurope", "f1"))?.sessionId === "northeurope.1" && (await s.getPlayer("westeurope", "h3"))?.sessionId === undefined,
  },
  {
    script: "expireLatencyPool",
    run: (s) => s.expireStale("westeurope", { playerMaxAgeMs: 10_000, sessionMaxAgeMs: 3_600_000 }),
    check: async (s) => (await s.getPlayer("westeurope", "h1"))?.leftReason === "expired" && (await s.getPlayer("westeurope", "f2"))?.leftReason === "expired",
  },
];

describe("a latency pool script failing at any of its failure points leaves nothing behind (ranked 5v5 by latency)", () => {
  it.each(LATENCY_CASES.map((c) => [c.script, c] as const))("%s", async (_name, c) => {
    // Only the ranked mode: the faulted call (the script's first of the step) is the one that has work.
    const options = { modes: { ranked: LATENCY_MODES.ranked! }, regions: LATENCY_REGIONS, zones: LATENCY_ZONES };
    const points = await faultAtEveryPoint({
      script: c.script,
      setUp: async (prefix, clock) => [...(await latencyScene(makeStore(redis, clock, { prefix, ...options }), clock)), "n1", "n2", "n3", "n4"],
      store: (conn, prefix, clock) => makeStore(conn, clock, { prefix, ...options }),
      run: c.run,
      invariants: (prefix, players) => allLatencyInvariants(redis, prefix, players),
      check: c.check,
    });
    expect(points).toBeGreaterThan(3);
  });
});
