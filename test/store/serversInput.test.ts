/**
 * Every server script checks all of its input before its first write: hostile values (prototype names,
 * unicode, huge numbers, fractions, wrong types, bad addresses, a region that does not match the key
 * prefix) are refused with BADINPUT, and a refused call leaves Redis byte for byte as it was (a DUMP of
 * every key of the test's prefix before and after). Prototype names that fit the id rules are ordinary ids.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createRedisConnection, type MatchmakingStore, type RedisConnection } from "../../src/store";
import { regionPrefix, routingKey, SERVER_INDEX, serverIndexKey, serverIndexPrefix } from "../../src/store/keys";
import { loadScripts } from "../../src/store/scriptLoader";
import type { ScriptName } from "../../src/store/replies";
import { makeStore, TestClock, uniquePrefix } from "../support/storeHarness";

const REGION = "westeurope";
let redis: RedisConnection;
let store: MatchmakingStore;
let prefix: string;
const clock = new TestClock();

beforeAll(async () => {
  redis = await createRedisConnection({ mode: "standalone", url: inject("redisUrl") });
  prefix = uniquePrefix();
  // Bound to a region list, as the app's store is: configured names are own-list lookups.
  store = makeStore(redis, clock, { prefix, serverLeaseSeconds: 30, regions: [REGION, "eastus"] });
  // State a partial write would disturb: servers free and allocated, a session, players, the index.
  for (let i = 0; i < 3; i++) await store.registerServer({ serverId: `s${i}`, region: REGION, address: `10.5.0.${i}:7777` });
  await store.enqueue(["a", "b"].map((p) => ({ ticketId: `t-${p}`, playerId: p, mode: "duel", region: REGION, requestedAtMs: clock.ms })));
  expect((await store.assign(REGION)).assigned).toHaveLength(1);
  return () => redis.close();
});

/** Every key of the test's prefix with its DUMP (type, value and TTL-independent encoding). */
async function dump(): Promise<Record<string, string>> {
  const key = routingKey(prefix, REGION);
  const keys = (await redis.command<string[]>(key, ["KEYS", `${prefix}:*`])).sort();
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = Buffer.from((await redis.command<string>(k, ["DUMP", k])) ?? "", "binary").toString("base64");
  return out;
}

async function runRaw(name: ScriptName, index: boolean, payload: unknown): Promise<unknown> {
  const script = loadScripts()[name];
  const key = index ? serverIndexKey(prefix, SERVER_INDEX.Where) : routingKey(prefix, REGION);
  const prefixArg = index ? serverIndexPrefix(prefix) : regionPrefix(prefix, REGION);
  return redis.runScript(key, script.sha, script.body, [key], [prefixArg, typeof payload === "string" ? payload : JSON.stringify(payload)]);
}

const BAD_IDS: unknown[] = ["", "sérvér", "😀", "a b", "x".repeat(65), "a\u0000b", 5, true, [], {}, null];
const BAD_ADDRESSES: unknown[] = ["", "nohost", "10.0.0.1:", ":80", "10.0.0.1:80/x", "10.0.0.1:80 ", "😀:80", `${"x".repeat(300)}:1`, 80, {}, null];
const BAD_INTS: unknown[] = [-1, 0, 1.5, 1e308, 2 ** 60, "12a", "0x10", " 1", [], {}, true, null];
const BAD_SESSIONS: unknown[] = ["../x", "westeurope.", ".1", "x".repeat(100), 7, null];
const BAD_REGIONS: unknown[] = ["Mars!", "", "a".repeat(40), "é", 1, null];

interface Case {
  script: ScriptName;
  index: boolean;
  valid: Record<string, unknown>;
  fields: Record<string, unknown[]>;
}

const now = clock.ms;
const CASES: Case[] = [
  {
    script: "claimServer",
    index: true,
    valid: { now, serverId: "s9", address: "10.5.9.9:7777", leaseMs: 30_000, region: REGION },
    fields: { now: BAD_INTS, serverId: BAD_IDS, address: BAD_ADDRESSES, leaseMs: BAD_INTS, region: BAD_REGIONS, defaultRegion: BAD_REGIONS },
  },
  {
    script: "forgetServers",
    index: true,
    valid: { now, items: [{ serverId: "s0", token: 1, address: "10.5.0.0:7777" }] },
    fields: {
      now: BAD_INTS,
      items: [
        "x",
        5,
        null,
        [5],
        [{ serverId: "__x y", token: 1, address: "10.5.0.0:7777" }],
        [{ serverId: "s0", token: -1, address: "a:1" }],
        [{ serverId: "s0", token: 1, address: "nohost" }],
        Array.from({ length: 1001 }, () => ({ serverId: "s0", token: 1, address: "10.5.0.0:7777" })),
      ],
      claimant: [5, "x", { serverId: "s0" }, { serverId: "s 0", token: 1 }, { serverId: "s0", token: 0 }],
    },
  },
  {
    script: "registerServer",
    index: false,
    valid: { now, region: REGION, serverId: "s0", address: "10.5.0.0:7777", token: 1, leaseExpiresAt: now + 30_000 },
    fields: { now: BAD_INTS, region: BAD_REGIONS, serverId: BAD_IDS, address: BAD_ADDRESSES, token: BAD_INTS, leaseExpiresAt: BAD_INTS },
  },
  {
    script: "retireServer",
    index: false,
    valid: { now, region: REGION, serverId: "s1", token: 2 },
    fields: { now: BAD_INTS, region: BAD_REGIONS, serverId: BAD_IDS, token: BAD_INTS },
  },
  {
    script: "ackServer",
    index: false,
    valid: { now, region: REGION, serverId: "s0" },
    fields: { now: BAD_INTS, region: BAD_REGIONS, serverId: BAD_IDS, sessionId: BAD_SESSIONS },
  },
  {
    script: "releaseServer",
    index: false,
    valid: { now, region: REGION, serverId: "s0" },
    fields: { now: BAD_INTS, region: BAD_REGIONS, serverId: BAD_IDS, sessionId: BAD_SESSIONS },
  },
  {
    script: "deregisterServer",
    index: false,
    valid: { now, region: REGION, serverId: "s2" },
    fields: { now: BAD_INTS, region: BAD_REGIONS, serverId: BAD_IDS },
  },
  {
    script: "expireServers",
    index: false,
    valid: { now: now + 3_600_000, region: REGION, maxServers: 100, maxPlayers: 200 },
    fields: { now: BAD_INTS, region: BAD_REGIONS, maxServers: [...BAD_INTS, 1001], maxPlayers: BAD_INTS },
  },
  { script: "readServer", index: false, valid: { now, region: REGION, serverId: "s0" }, fields: { region: BAD_REGIONS, serverId: BAD_IDS } },
  {
    script: "assignSessions",
    index: false,
    valid: { now, region: REGION, retentionMs: 3_600_000, max: 10, claimMs: 60_000 },
    fields: { claimMs: BAD_INTS },
  },
];

describe("server scripts refuse hostile input before their first write", () => {
  for (const c of CASES) {
    it(`${c.script}: every bad value of every field is BADINPUT and leaves Redis unchanged`, async () => {
      const before = await dump();
      let refused = 0;
      for (const [field, values] of Object.entries(c.fields)) {
        for (const value of values) {
          const payload = { ...c.valid, [field]: value };
          await expect(runRaw(c.script, c.index, payload), `${c.script}.${field} = ${JSON.stringify(value)?.slice(0, 60)}`).rejects.toThrow(/^BADINPUT /);
          refused++;
        }
      }
      // Not JSON, not an object, and a region that does not match the key prefix.
      await expect(runRaw(c.script, c.index, "{nope")).rejects.toThrow(/^BADINPUT /);
      await expect(runRaw(c.script, c.index, "[1,2]")).rejects.toThrow(/^BADINPUT /);
      if (!c.index) await expect(runRaw(c.script, c.index, { ...c.valid, region: "eastus" })).rejects.toThrow(/^BADINPUT /);
      expect(await dump()).toEqual(before);
      expect(refused).toBeGreaterThan(5);
    });
  }

  it("the store answers the same hostile values as 4xx-style refusals (never a throw that is not StoreInputError)", async () => {
    const before = await dump();
    for (const serverId of BAD_IDS) {
      expect(await store.registerServer({ serverId: serverId as string, address: "10.5.9.1:1", region: REGION })).toMatchObject({
        outcome: "rejected",
        error: "invalid_serverId",
      });
      await expect(store.releaseServer({ serverId: serverId as string })).rejects.toMatchObject({ name: "StoreInputError", error: "invalid_serverId" });
      await expect(store.ackServer({ serverId: serverId as string })).rejects.toMatchObject({ name: "StoreInputError" });
      await expect(store.deregisterServer({ serverId: serverId as string })).rejects.toMatchObject({ name: "StoreInputError" });
      await expect(store.getServer(undefined, serverId as string)).rejects.toMatchObject({ name: "StoreInputError" });
    }
    for (const address of BAD_ADDRESSES) {
      expect(await store.registerServer({ serverId: "s9", address: address as string, region: REGION })).toMatchObject({
        outcome: "rejected",
        error: "invalid_address",
      });
    }
    for (const region of [...BAD_REGIONS, "constructor", "__proto__"]) {
      const out = await store.registerServer({ serverId: "s9", address: "10.5.9.1:1", region: region as string });
      expect(out.outcome, String(region)).toBe("rejected");
    }
    for (const sessionId of BAD_SESSIONS) {
      await expect(store.releaseServer({ serverId: "s0", sessionId: sessionId as string })).rejects.toMatchObject({
        name: "StoreInputError",
        error: "invalid_sessionId",
      });
      await expect(store.ackServer({ serverId: "s0", sessionId: sessionId as string })).rejects.toMatchObject({
        name: "StoreInputError",
        error: "invalid_sessionId",
      });
    }
    expect(await dump()).toEqual(before);
  });

  it("prototype names that fit the id rules are ordinary ids", async () => {
    for (const [i, serverId] of ["__proto__", "constructor", "toString", "hasOwnProperty"].entries()) {
      expect(await store.registerServer({ serverId, address: `10.5.8.${i}:7777`, region: REGION })).toMatchObject({
        outcome: "registered",
        server: { serverId },
      });
      expect(await store.getServer(undefined, serverId)).toMatchObject({ server: { serverId, region: REGION } });
      expect(await store.deregisterServer({ serverId })).toEqual({ outcome: "removed", region: REGION });
    }
  });
});
