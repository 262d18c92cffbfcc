/**
 * Property-style: random and hostile field values (prototype names, unicode, control characters, huge,
 * negative and fractional numbers, NaN as number and as text, arrays, nested objects, very long strings)
 * thrown at every store operation. Each call either succeeds, answers a rejected result, or throws
 * StoreInputError - never anything else - and a refused call (thrown, or every entry rejected) leaves a
 * full dump of Redis (every key of the prefix: TYPE, DUMP, PEXPIRETIME) identical. Reads never write.
 * After all of it the data model's invariants still hold. The PRNG is seeded: a failure names its seed
 * and trial, and reruns identically (HOSTILE_SEED=<n> to try another seed).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { StoreInputError, type MatchmakingStore, type RedisConnection } from "../../src/store";
import { prng } from "./concurrencyScenario";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";
import { checkInvariants, connect, dumpPrefix, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";

const SEED = Number(process.env.HOSTILE_SEED ?? 20261201);
const TRIALS = 60;

const HOSTILE: unknown[] = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "",
  " ",
  "a b",
  "x".repeat(65),
  "y".repeat(100_000),
  "é",
  "😀",
  "\u0000",
  "\n",
  "{westeurope}",
  "a}b",
  "westeurope}:x",
  "-1",
  "NaN",
  "Infinity",
  "1e309",
  "0x10",
  "1.5",
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  Number.MAX_VALUE,
  true,
  false,
  null,
  undefined,
  [],
  ["p1"],
  [1, 2, 3],
  {},
  { a: 1 },
  { toString: "x" },
  JSON.parse('{"__proto__":{"polluted":1}}') as unknown,
  { nested: { deeper: [{ x: 1 }] } },
];
/** Valid-looking values, so that some calls get through and change state. */
const PLAUSIBLE: unknown[] = [REGION, "duel", "squad", "solo", "p1", "p2", "t1", "t9", `${REGION}.1`, "10.0.0.1:7000", "s1", 1, 1000, 60_000];

type Rnd = () => number;
function hostile(rnd: Rnd): unknown {
  const r = rnd();
  if (r < 0.55) return HOSTILE[Math.floor(rnd() * HOSTILE.length)];
  if (r < 0.7) return PLAUSIBLE[Math.floor(rnd() * PLAUSIBLE.length)];
  if (r < 0.85) {
    const chars = "aZ09_-.:{}\\/\"'é😀\u0000 ";
    return Array.from({ length: Math.floor(rnd() * 80) }, () => chars[Math.floor(rnd() * chars.length)]).join("");
  }
  return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20);
}
/** `good` with each field replaced by a hostile value with probability p (and sometimes an extra field). */
function mutate(rnd: Rnd, good: Record<string, unknown>, p = 0.35): unknown {
  if (rnd() < 0.05) return hostile(rnd);
  const out: Record<string, unknown> = { ...good };
  for (const k of Object.keys(out)) if (rnd() < p) out[k] = hostile(rnd);
  if (rnd() < 0.05) out[pick(rnd, ["extra", "__proto__", "constructor"])] = hostile(rnd);
  return out;
}
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const maybe = <T>(rnd: Rnd, v: T, p = 0.5): unknown => (rnd() < p ? v : hostile(rnd));

type Outcome = "ok" | "refused";
/** One operation: calls the store with hostile arguments; says whether the call was refused as a whole. */
type Op = { name: string; read?: boolean; call: (s: MatchmakingStore, rnd: Rnd, now: number) => Promise<Outcome> };
const allRejected = (xs: { outcome: string }[]): Outcome => (xs.length > 0 && xs.every((x) => x.outcome === "rejected") ? "refused" : "ok");
const list = (rnd: Rnd, make: () => unknown): unknown => (rnd() < 0.1 ? hostile(rnd) : Array.from({ length: 1 + Math.floor(rnd() * 4) }, make));

const OPS: Op[] = [
  {
    name: "enqueue",
    call: async (s, rnd, now) =>
      allRejected(
        (
          await s.enqueue(
            list(rnd, () =>
              mutate(rnd, {
                ticketId: `t${Math.floor(rnd() * 50)}`,
                playerId: `p${Math.floor(rnd() * 20)}`,
                mode: pick(rnd, ["duel", "squad", "solo"]),
                region: REGION,
                requestedAtMs: now,
              }),
            ) as never,
          )
        ).results,
      ),
  },
  {
    // Rules modes: skills and parties (members that may be hostile, repeated, too many, live).
    name: "enqueue with skill and party",
    call: async (s, rnd, now) =>
      allRejected(
        (
          await s.enqueue(
            list(rnd, () =>
              mutate(rnd, {
                ticketId: `t${Math.floor(rnd() * 50)}`,
                playerId: `p${Math.floor(rnd() * 20)}`,
                mode: pick(rnd, ["ranked", "trio", "duo"]),
                region: REGION,
                requestedAtMs: now,
                skill: 1000 + Math.floor(rnd() * 1000),
                party: list(rnd, () => mutate(rnd, { playerId: `p${Math.floor(rnd() * 20)}`, skill: 1000 + Math.floor(rnd() * 1000) })),
              }),
            ) as never,
          )
        ).results,
      ),
  },
  { name: "regroup", call: async (s, rnd) => (await s.regroup(maybe(rnd, REGION) as never, mutate(rnd, { maxPlayers: 10 }) as never), "ok") },
  {
    name: "leave",
    call: async (s, rnd) =>
      allRejected(
        await s.leave(
          list(rnd, () =>
            mutate(rnd, { playerId: `p${Math.floor(rnd() * 20)}`, ticketId: `t${Math.floor(rnd() * 50)}`, region: REGION, reason: "cancelled" }),
          ) as never,
        ),
      ),
  },
  { name: "assign", call: async (s, rnd) => (await s.assign(maybe(rnd, REGION) as never, mutate(rnd, { maxSessions: 5 }) as never), "ok") },
  {
    name: "claimUnannounced",
    call: async (s, rnd) => (await s.claimUnannounced(maybe(rnd, REGION) as never, mutate(rnd, { olderThanMs: 0, max: 3 }) as never), "ok"),
  },
  {
    name: "confirmAnnounced",
    call: async (s, rnd) => (await s.confirmAnnounced(maybe(rnd, REGION) as never, list(rnd, () => maybe(rnd, `${REGION}.1`)) as never), "ok"),
  },
  {
    name: "expireStale",
    call: async (s, rnd) => (
      await s.expireStale(maybe(rnd, REGION) as never, mutate(rnd, { playerMaxAgeMs: 600_000, sessionMaxAgeMs: 600_000, max: 10 }) as never),
      "ok"
    ),
  },
  { name: "getPlayer", read: true, call: async (s, rnd) => (await s.getPlayer(maybe(rnd, REGION) as never, maybe(rnd, "p1") as never), "ok") },
  { name: "stats", read: true, call: async (s, rnd) => (await s.stats(maybe(rnd, REGION, 0.3) as never), "ok") },
  {
    name: "listDeadLetters",
    read: true,
    call: async (s, rnd) => (await s.listDeadLetters(maybe(rnd, "player-requests") as never, maybe(rnd, 10) as never), "ok"),
  },
  {
    name: "deadLetter",
    call: async (s, rnd) => (
      await s.deadLetter(maybe(rnd, "player-requests") as never, list(rnd, () => mutate(rnd, { body: "{}", error: "e", detail: "d" })) as never),
      "ok"
    ),
  },
  {
    name: "servers.register",
    call: async (s, rnd) => {
      const out = await s.servers.register(
        mutate(rnd, { serverId: `s${Math.floor(rnd() * 3)}`, address: `10.0.0.${Math.floor(rnd() * 3)}:7000`, region: REGION }) as never,
      );
      return out.outcome === "rejected" ? "refused" : "ok";
    },
  },
  {
    name: "servers.release",
    call: async (s, rnd) => (await s.servers.release(mutate(rnd, { serverId: "s1", region: REGION, sessionId: `${REGION}.1` }) as never), "ok"),
  },
  {
    name: "servers.ack",
    call: async (s, rnd) => (await s.servers.ack(mutate(rnd, { serverId: "s1", region: REGION, sessionId: `${REGION}.1` }) as never), "ok"),
  },
  { name: "servers.deregister", call: async (s, rnd) => (await s.servers.deregister(mutate(rnd, { serverId: "s2", region: REGION }) as never), "ok") },
  {
    name: "servers.expire",
    call: async (s, rnd) => (await s.servers.expire(maybe(rnd, REGION) as never, mutate(rnd, { maxServers: 5, maxPlayers: 100 }) as never), "ok"),
  },
  { name: "servers.get", read: true, call: async (s, rnd) => (await s.servers.get(maybe(rnd, REGION) as never, maybe(rnd, "s1") as never), "ok") },
  { name: "servers.list", read: true, call: async (s, rnd) => (await s.servers.list(maybe(rnd, REGION) as never), "ok") },
  { name: "servers.locate", read: true, call: async (s, rnd) => (await s.servers.locate(maybe(rnd, "s1") as never), "ok") },
];

let redis: RedisConnection;
beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
});
afterAll(async () => {
  await redis.close();
});

describe(`hostile input at every store operation (seed ${SEED})`, () => {
  it.each(OPS.map((op, i) => [op.name, i] as const))("%s: succeeds, rejects or throws StoreInputError; a refusal changes nothing", async (_name, opIndex) => {
    const op = OPS[opIndex]!;
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const store = makeStore(redis, clock, { prefix, modes: RULES_MODES });
    // Some state for the operations to act on: players waiting and matched, servers free and allocated.
    await store.servers.register({ serverId: "s1", region: REGION, address: "10.0.0.1:7000" });
    await store.enqueue(
      ["p1", "p2", "p3", "p4", "p5"].map((p, i) => ({
        ticketId: `t${i + 1}`,
        playerId: p,
        mode: i < 2 ? "duel" : "squad",
        region: REGION,
        requestedAtMs: clock.ms,
      })),
    );
    await store.assign(REGION);
    await store.servers.register({ serverId: "s2", region: REGION, address: "10.0.0.2:7000" });
    const rnd = prng(SEED + opIndex * 104_729);
    const counts = { ok: 0, refused: 0, threw: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      clock.advance(Math.floor(rnd() * 5000));
      const where = `${op.name} seed ${SEED} trial ${trial}`;
      const before = await dumpPrefix(redis, prefix);
      let outcome: Outcome | "threw";
      try {
        outcome = await op.call(store, rnd, clock.ms);
      } catch (err) {
        if (!(err instanceof StoreInputError)) throw new Error(`${where}: threw ${String(err)}`, { cause: err });
        outcome = "threw";
      }
      counts[outcome]++;
      if (outcome !== "ok" || op.read)
        expect(await dumpPrefix(redis, prefix), `${where}: a ${op.read ? "read" : "refused call"} changed Redis`).toEqual(before);
    }
    expect(counts.ok + counts.refused + counts.threw).toBe(TRIALS);
    expect(counts.refused + counts.threw, `${op.name} was never refused: the hostile values did not reach it`).toBeGreaterThan(0);
    // Every player the trials created, whatever id a hostile value happened to make valid.
    const playerKey = `${prefix}:{${REGION}}:Player:`;
    const players = Object.keys(await dumpPrefix(redis, prefix))
      .filter((k) => k.startsWith(playerKey))
      .map((k) => k.slice(playerKey.length));
    expect(await checkInvariants(new RawRegion(redis, prefix), RULES_SIZES, players)).toEqual([]);
    expect(await checkRulesInvariants(new RawRegion(redis, prefix), RULES, players)).toEqual([]);
  });
});
