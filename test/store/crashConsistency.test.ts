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
 * assignSessions, expireStale and claimUnannounced are written (the game-server scripts still interleave:
 * see consistency.md).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { MatchmakingStore, RedisConnection } from "../../src/store";
import { createHash } from "node:crypto";
import type { ModeSpec } from "../../src/domain/modeRules";
import { checkInvariants, connect, dumpPrefix, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";

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

describe("a script failing at any of its failure points leaves nothing behind", () => {
  it.each(CASES.map((c) => [c.script, c] as const))("%s", async (_name, c) => {
    let points = 0;
    for (let faultAt = 1; faultAt < 500; faultAt++) {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      // The scene's players and the new ones the enqueue and leave cases bring.
      const players = [...(await scene(makeStore(redis, clock, { prefix, modes: RULES_MODES }), clock)), "n1", "n4", "n5", "x1"];
      if (c.prepare) await c.prepare(makeStore(redis, clock, { prefix, modes: RULES_MODES }));
      const conn = faulty(redis, c.script, faultAt);
      const store = makeStore(conn, clock, { prefix, modes: c.modes ?? RULES_MODES });
      const before = await dumpPrefix(redis, prefix);
      const outcome = await c.run(store).then(
        () => "ok",
        (err: Error) => err.message,
      );
      const raw = new RawRegion(redis, prefix);
      expect(await checkInvariants(raw, RULES_SIZES, players), `${c.script} fault ${faultAt} ${outcome}`).toEqual([]);
      expect(await checkRulesInvariants(raw, RULES, players), `${c.script} fault ${faultAt} ${outcome}`).toEqual([]);
      if (!conn.injected()) {
        expect(outcome, `${c.script} without a fault`).toBe("ok");
        break;
      }
      points++;
      expect(outcome).toMatch(/^INJECTED/);
      const after = await dumpPrefix(redis, prefix);
      const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
      expect(changed, `${c.script} failed at point ${faultAt} and left writes behind`).toEqual([]);
    }
    // The scene gives every script real work: several failure points were tried.
    expect(points).toBeGreaterThan(3);
  });
});
