/**
 * Issue 9, critical: `mode: "constructor"` was accepted (`value in modes` walks the prototype) and the
 * enqueue script failed halfway with `attempt to compare nil with number`, leaving players waiting but not
 * indexed, WaitingPerMode negative and session ids reused. Here: prototype names are unknown names at the
 * store's boundary, and every script refuses bad input before its first write even when called directly,
 * so a refused call leaves Redis byte-identical.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { StoreInputError, type RedisConnection } from "../../src/store";
import { latencyPoolPrefix, routingKey, regionPrefix } from "../../src/store/keys";
import { loadScripts } from "../../src/store/scriptLoader";
import { checkInvariants, connect, dumpPrefix, makeStore, MODES, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";

let redis: RedisConnection;
beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
});
afterAll(async () => {
  await redis.close();
});

const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "prototype"];

describe("configured names are own properties only", () => {
  it.each(PROTOTYPE_NAMES)("mode %s is unknown: rejected alone, the batch proceeds, state consistent", async (mode) => {
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const store = makeStore(redis, clock, { prefix });
    const raw = new RawRegion(redis, prefix);
    // A 4-player squad half filled first, then a batch mixing the hostile mode among good requests.
    await store.enqueue([0, 1].map((i) => ({ ticketId: `a${i}`, playerId: `a${i}`, mode: "squad", region: REGION, requestedAtMs: clock.ms })));
    const batch = [0, 1, 2, 3, 4, 5].map((i) => ({
      ticketId: `b${i}`,
      playerId: `b${i}`,
      mode: i === 2 ? mode : "squad",
      region: REGION,
      requestedAtMs: clock.ms,
    }));
    const out = await store.enqueue(batch);
    expect(out.results[2]).toMatchObject({ outcome: "rejected", error: expect.stringMatching(/^(unknown|invalid)_mode$/) as unknown });
    expect(out.results.filter((r) => r.outcome === "queued")).toHaveLength(5);
    const players = [...["a0", "a1"], ...batch.map((b) => b.playerId)];
    expect(await checkInvariants(raw, MODES, players)).toEqual([]);
    expect(await raw.hash("WaitingPerMode")).toEqual({ squad: "7" });
    // 7 squad players: one full session and one with 3, never a session over capacity.
    expect(await raw.get("SessionSeq")).toBe("2");
    expect(await raw.sessionMembers(`${REGION}.1`)).toHaveLength(4);
    // The other operations that take a mode refuse it too.
    const left = await store.leave([{ playerId: "x", ticketId: "x1", region: REGION, reason: "cancelled", mode }]);
    expect(left[0]).toMatchObject({ outcome: "rejected", error: expect.stringMatching(/_mode$/) as unknown });
  });

  it.each(PROTOTYPE_NAMES)("region %s is unknown when regions are configured", async (region) => {
    const store = makeStore(redis, new TestClock(), { regions: [REGION] });
    await expect(store.stats(region)).rejects.toBeInstanceOf(StoreInputError);
  });
});

/** Calls a script directly, as a buggy caller could, bypassing the store's validation. */
async function callScript(name: keyof ReturnType<typeof loadScripts>, prefix: string, args: Record<string, unknown>, plain: string[] = []): Promise<unknown> {
  const s = loadScripts()[name];
  const key = routingKey(prefix, REGION);
  return redis.runScript(key, s.sha, s.body, [key], [regionPrefix(prefix, REGION), JSON.stringify({ region: REGION, ...args }), ...plain]);
}

describe("scripts refuse bad input before their first write", () => {
  async function setup() {
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const store = makeStore(redis, clock, { prefix });
    await store.enqueue([0, 1, 2].map((i) => ({ ticketId: `t${i}`, playerId: `p${i}`, mode: "squad", region: REGION, requestedAtMs: clock.ms })));
    await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7000" });
    return { clock, prefix, store };
  }

  it("enqueuePlayers with mode constructor deep in a batch: refused, Redis byte-identical", async () => {
    const { clock, prefix } = await setup();
    const before = await dumpPrefix(redis, prefix);
    const plain: string[] = [];
    for (let i = 0; i < 10; i++) plain.push(`n${i}`, `n${i}`, i === 7 ? "constructor" : "squad", String(clock.ms), "", "0");
    await expect(callScript("enqueuePlayers", prefix, { now: clock.ms, retentionMs: 3_600_000, modes: MODES }, plain)).rejects.toThrow(
      /BADINPUT enqueuePlayers modes\.constructor/,
    );
    expect(await dumpPrefix(redis, prefix)).toEqual(before);
  });

  const badCalls: [string, keyof ReturnType<typeof loadScripts>, (now: number) => Record<string, unknown>, string[]][] = [
    [
      "enqueue: size of a mode not a number",
      "enqueuePlayers",
      (now) => ({ now, retentionMs: 1000, modes: { squad: "4x" } }),
      ["t9", "p9", "squad", "1", "", "0"],
    ],
    ["enqueue: requestedAt not an integer", "enqueuePlayers", (now) => ({ now, retentionMs: 1000, modes: MODES }), ["t9", "p9", "squad", "NaN", "", "0"]],
    ["enqueue: skill not a number", "enqueuePlayers", (now) => ({ now, retentionMs: 1000, modes: MODES }), ["t9", "p9", "squad", "1", "1e999", "0"]],
    ["enqueue: a party cut short", "enqueuePlayers", (now) => ({ now, retentionMs: 1000, modes: MODES }), ["t9", "p9", "squad", "1", "", "2", "m1", ""]],
    [
      "enqueue: a party member id with a brace",
      "enqueuePlayers",
      (now) => ({ now, retentionMs: 1000, modes: MODES }),
      ["t9", "p9", "squad", "1", "", "1", "m}", ""],
    ],
    [
      "enqueue: rules with maxPartySize over teamSize",
      "enqueuePlayers",
      (now) => ({ now, retentionMs: 1000, modes: { squad: { size: 4, teams: 2, teamSize: 2, maxPartySize: 3 } } }),
      ["t9", "p9", "squad", "1", "", "0"],
    ],
    [
      "enqueue: skill window NaN",
      "enqueuePlayers",
      (now) => ({ now, retentionMs: 1000, modes: { squad: { size: 4, teams: 1, teamSize: 4, maxPartySize: 1, skill: { window: "NaN", widen: [] } } } }),
      ["t9", "p9", "squad", "1", "5", "0"],
    ],
    [
      "regroup: rules of another shape",
      "regroupSessions",
      (now) => ({ now, mode: "squad", rules: { size: 4 }, afterSeq: 0, maxTargets: 5, maxPlayers: 5 }),
      [],
    ],
    ["enqueue: a request cut short", "enqueuePlayers", (now) => ({ now, retentionMs: 1000, modes: MODES }), ["t9", "p9", "squad"]],
    ["leave: unknown reason", "leaveQueue", (now) => ({ now, retentionMs: 1000, requests: [{ playerId: "p0", ticketId: "t0", reason: "constructor" }] }), []],
    ["leave: requests an object", "leaveQueue", (now) => ({ now, retentionMs: 1000, requests: { constructor: 1 } }), []],
    ["assign: max NaN", "assignSessions", (now) => ({ now, retentionMs: 1000, max: "NaN" }), []],
    ["expireStale: negative age", "expireStale", (now) => ({ now, retentionMs: 1000, playerMaxAgeMs: -1, sessionMaxAgeMs: 0, max: 10 }), []],
    ["claim: max missing", "claimUnannounced", (now) => ({ now, olderThanMs: 0 }), []],
    ["confirm: session id with a brace", "confirmAnnounced", (now) => ({ now, sessionIds: ["x}.1"] }), []],
    ["release: sessionId with a brace", "releaseServer", (now) => ({ now, serverId: "s1", sessionId: "{x}.1" }), []],
    ["register: address without port", "registerServer", (now) => ({ now, serverId: "s2", address: "host", leaseMs: 1000 }), []],
    ["deregister: serverId an array", "deregisterServer", (now) => ({ now, serverId: ["s1"] }), []],
    ["expireServers: max 0", "expireServers", (now) => ({ now, max: 0 }), []],
    ["now missing", "expireStale", () => ({ retentionMs: 1000, playerMaxAgeMs: 0, sessionMaxAgeMs: 0, max: 10 }), []],
    ["now in the far future", "assignSessions", () => ({ now: 2 ** 60, retentionMs: 1000, max: 10 }), []],
    [
      "backfill: slots an object",
      "requestBackfill",
      (now) => ({ now, serverId: "s1", sessionId: "westeurope.1", slots: { constructor: 1 }, modes: MODES }),
      [],
    ],
    ["backfill: no players asked for", "requestBackfill", (now) => ({ now, serverId: "s1", sessionId: "westeurope.1", slots: [0, 0], modes: MODES }), []],
    ["backfill cancel: sessionId with a brace", "cancelBackfill", (now) => ({ now, serverId: "s1", sessionId: "{x}.1" }), []],
    ["fill: maxScan missing", "fillBackfills", (now) => ({ now, retentionMs: 1000, modes: MODES, afterSeq: 0, max: 5, maxPlayers: 5 }), []],
    ["join confirm: id with a brace", "confirmBackfillJoins", (now) => ({ now, joinIds: ["westeurope.b1.}"] }), []],
  ];
  it.each(badCalls)("%s: refused with BADINPUT, Redis byte-identical", async (_what, name, args, plain) => {
    const { clock, prefix } = await setup();
    const before = await dumpPrefix(redis, prefix);
    await expect(callScript(name, prefix, args(clock.ms), plain)).rejects.toThrow(new RegExp(`^BADINPUT ${name} `));
    expect(await dumpPrefix(redis, prefix)).toEqual(before);
  });

  it("a region prefix that does not match the region is refused", async () => {
    const { clock, prefix } = await setup();
    const s = loadScripts().readStats;
    const key = routingKey(prefix, REGION);
    await expect(
      redis.runScript(key, s.sha, s.body, [key], [regionPrefix(prefix, REGION), JSON.stringify({ now: clock.ms, region: "eastus", modes: [] })]),
    ).rejects.toThrow(/BADINPUT readStats region/);
  });
});

describe("the latency pool scripts refuse bad input before their first write (ranked 5v5 by latency, issue 14)", () => {
  const ZONE = { westeurope: "eu", northeurope: "eu" };
  /** A ranked latency mode as the store sends it (lua/includes/latency_rules.lua). */
  const RANKED = {
    size: 10,
    teams: 2,
    teamSize: 5,
    maxPartySize: 5,
    skill: { window: 200, widen: [{ afterSeconds: 15, window: 400 }] },
    latency: { max: 80, widen: [[20, 150]] },
  };
  const MODES_ARG = { ranked: RANKED };

  async function setup() {
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const modes = { ranked: { teams: 2, teamSize: 5, maxPartySize: 5, skill: { window: 200 }, latency: { max: 80 } } };
    const store = makeStore(redis, clock, { prefix, modes, regions: ["westeurope", "northeurope"], zones: ZONE });
    // Pooled: a party of three and two solos (too few for a group); placed: a group of ten.
    const t = (pid: string, skill: number, party: string[] = []) => ({
      ticketId: `t-${pid}`,
      playerId: pid,
      mode: "ranked",
      region: "westeurope",
      requestedAtMs: clock.ms,
      skill,
      latencies: { westeurope: 20, northeurope: 30 },
      ...(party.length ? { party: party.map((m) => ({ playerId: m, skill })) } : {}),
    });
    await store.enqueue([t("a0", 3000, ["a1", "a2"]), t("b0", 3010), t("c0", 2990)]);
    const placed = await store.enqueue([t("g0", 1500, ["g1"]), ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => t(`g${i}`, 1500 + i))]);
    expect(placed.readySessions).toHaveLength(1);
    return { clock, prefix };
  }
  /** Calls a pool script directly (as a buggy caller could), on the zone's slot. */
  async function callPool(name: keyof ReturnType<typeof loadScripts>, prefix: string, args: Record<string, unknown>, plain: string[] = []): Promise<unknown> {
    const s = loadScripts()[name];
    const pool = latencyPoolPrefix(prefix, "westeurope", ZONE);
    const regions = ["westeurope", "northeurope"].map((r) => [r, regionPrefix(prefix, r, ZONE)]);
    const key = `${pool}WaitingPerMode`;
    return redis.runScript(key, s.sha, s.body, [key], [pool, JSON.stringify({ regions, retentionMs: 3_600_000, ...args }), ...plain]);
  }
  const good = (now: number) => ["n1", "n1", "ranked", String(now), "westeurope", "1500", "1", "westeurope", "20", "0"];
  const badCalls: [string, keyof ReturnType<typeof loadScripts>, (now: number) => Record<string, unknown>, (now: number) => string[]][] = [
    [
      "pool: a party cut short",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => [...good(now).slice(0, -1), "2", "m1", "1500"],
    ],
    [
      "pool: a party member id with a brace",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => [...good(now).slice(0, -1), "1", "m}", "1500"],
    ],
    [
      "pool: skill not a number",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => good(now).map((v, i) => (i === 5 ? "1e999" : v)),
    ],
    [
      "pool: a member's skill not a number",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => [...good(now).slice(0, -1), "1", "m1", "NaN"],
    ],
    [
      "pool: rules with maxPartySize over teamSize",
      "poolLatencyTickets",
      (now) => ({ now, modes: { ranked: { ...RANKED, maxPartySize: 6 } }, maxPlayers: 30 }),
      good,
    ],
    [
      "pool: a skill window NaN",
      "poolLatencyTickets",
      (now) => ({ now, modes: { ranked: { ...RANKED, skill: { window: "NaN", widen: [] } } }, maxPlayers: 30 }),
      good,
    ],
    [
      "pool: a mode without its latency rule",
      "poolLatencyTickets",
      (now) => ({ now, modes: { ranked: { ...RANKED, latency: undefined } }, maxPlayers: 30 }),
      good,
    ],
    ["pool: maxPlayers missing", "poolLatencyTickets", (now) => ({ now, modes: MODES_ARG }), good],
    [
      "pool: a region outside the slot",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => good(now).map((v, i) => (i === 7 ? "eastus" : v)),
    ],
    [
      "pool: mode constructor",
      "poolLatencyTickets",
      (now) => ({ now, modes: MODES_ARG, maxPlayers: 30 }),
      (now) => good(now).map((v, i) => (i === 2 ? "constructor" : v)),
    ],
    ["place: maxPlayers 0", "placeLatencyPool", (now) => ({ now, modes: MODES_ARG, mode: "ranked", offset: 0, max: 10, maxPlayers: 0 }), () => []],
    [
      "place: teams x teamSize not the size",
      "placeLatencyPool",
      (now) => ({ now, modes: { ranked: { ...RANKED, teams: 3 } }, mode: "ranked", offset: 0, max: 10, maxPlayers: 30 }),
      () => [],
    ],
    ["leave: unknown reason", "leaveLatencyPool", (now) => ({ now, requests: [{ playerId: "a1", ticketId: "t-a0", reason: "constructor" }] }), () => []],
    ["expire: max 0", "expireLatencyPool", (now) => ({ now, mode: "ranked", playerMaxAgeMs: 0, max: 0 }), () => []],
  ];
  it.each(badCalls)("%s: refused with BADINPUT, Redis byte-identical", async (_what, name, args, plain) => {
    const { clock, prefix } = await setup();
    const before = await dumpPrefix(redis, prefix);
    await expect(callPool(name, prefix, args(clock.ms), plain(clock.ms))).rejects.toThrow(new RegExp(`^BADINPUT ${name} `));
    expect(await dumpPrefix(redis, prefix)).toEqual(before);
  });

  it("the same call with good input writes (the refusals above are the input's)", async () => {
    const { clock, prefix } = await setup();
    const before = await dumpPrefix(redis, prefix);
    const out = (await callPool("poolLatencyTickets", prefix, { now: clock.ms, modes: MODES_ARG, maxPlayers: 30 }, good(clock.ms))) as string;
    expect(JSON.parse(out)).toMatchObject({ results: [{ outcome: "queued", pooled: true }] });
    expect(await dumpPrefix(redis, prefix)).not.toEqual(before);
  });
});
