/**
 * The table of bad inputs and the exact error each gets, at the store's boundary. A bad entry of a batch
 * is rejected alone; the rest of the batch is queued.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { StoreInputError, type EnqueueRequest, type LeaveRequest, type MatchmakingStore, type RedisConnection } from "../../src/store";
import { at } from "../support/at";
import { connect, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";

let redis: RedisConnection;
let store: MatchmakingStore;
let raw: RawRegion;
const clock = new TestClock();

beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
  const prefix = uniquePrefix();
  store = makeStore(redis, clock, { prefix, regions: [REGION, "eastus"] });
  raw = new RawRegion(redis, prefix);
});
afterAll(async () => {
  await redis.close();
});

const good = (): EnqueueRequest => ({ ticketId: "t1", playerId: "p1", mode: "duel", region: REGION, requestedAtMs: clock.ms });
type Row = [what: string, patch: Record<string, unknown>, error: string, detailContains: string];
/** Test titles read "<what> -> <error>". */
const titled = (rows: Row[]) => rows.map(([what, patch, error, detail]) => [what, error, patch, detail] as const);
/** `base` with `patch` applied; a field patched to undefined is removed. */
function patched(base: object, patch: Record<string, unknown>): Record<string, unknown> {
  const entry: Record<string, unknown> = { ...base, ...patch };
  for (const k of Object.keys(patch)) if (patch[k] === undefined) delete entry[k];
  return entry;
}

const enqueueTable: Row[] = [
  ["empty playerId", { playerId: "" }, "invalid_playerId", "1-64 characters"],
  ["playerId with a space", { playerId: "a b" }, "invalid_playerId", '"a b"'],
  ["playerId of 65 characters", { playerId: "x".repeat(65) }, "invalid_playerId", "1-64"],
  ["playerId with a hash-tag brace", { playerId: "p{1}" }, "invalid_playerId", "[A-Za-z0-9_-]"],
  ["playerId as a number", { playerId: 42 }, "invalid_playerId", "must be a string"],
  ["missing ticketId", { ticketId: undefined }, "invalid_ticketId", "must be a string"],
  ["ticketId with a slash", { ticketId: "x/y" }, "invalid_ticketId", '"x/y"'],
  ["mode with capitals", { mode: "Duel" }, "invalid_mode", "duel, squad, solo"],
  ["mode not configured", { mode: "ranked" }, "unknown_mode", '"ranked" is not configured'],
  ["mode as a number", { mode: 2 }, "invalid_mode", "must be one of"],
  ["region with a space", { region: "west europe" }, "invalid_region", "must be one of"],
  ["region smuggling a hash tag", { region: "{westeurope}" }, "invalid_region", "must be one of"],
  ["region not served", { region: "mars" }, "unknown_region", '"mars" is not served'],
  ["requestedAtMs as an ISO string", { requestedAtMs: "2026-01-01T12:00:00Z" }, "invalid_requestedAt", "epoch milliseconds"],
  ["negative requestedAtMs", { requestedAtMs: -5 }, "invalid_requestedAt", "positive integer"],
  ["fractional requestedAtMs", { requestedAtMs: 1.5 }, "invalid_requestedAt", "positive integer"],
  ["NaN requestedAtMs", { requestedAtMs: Number.NaN }, "invalid_requestedAt", "positive integer"],
  ["requestedAtMs 10 minutes in the future", { requestedAtMs: clock.ms + 600_000 }, "invalid_requestedAt", "600 s in the future"],
  ["unknown field", { priority: 1 }, "unknown_field", "priority"],
];

describe("enqueue input validation", () => {
  it.each(titled(enqueueTable))("%s -> %s", async (_what, error, patch, detail) => {
    const out = await store.enqueue([patched(good(), patch) as unknown as EnqueueRequest]);
    expect(out.results[0]).toMatchObject({ outcome: "rejected", error });
    const rejected = at(out.results, 0);
    expect(rejected.outcome === "rejected" && rejected.detail).toContain(detail);
  });

  it.each([
    ["null", null],
    ["an array", ["t1", "p1"]],
    ["a string", "t1"],
  ])("an entry that is %s -> invalid_message", async (_what, entry) => {
    const out = await store.enqueue([entry as unknown as EnqueueRequest]);
    expect(out.results[0]).toMatchObject({ outcome: "rejected", error: "invalid_message", ticketId: "", playerId: "" });
  });

  it("bad entries are rejected alone while the rest of the batch is queued", async () => {
    const batch = [
      { ...good(), ticketId: "ok-1", playerId: "ok1" },
      { ...good(), ticketId: "bad-1", playerId: "bad one" },
      { ...good(), ticketId: "ok-2", playerId: "ok2", region: "eastus" },
      { ...good(), ticketId: "bad-2", playerId: "bad2", mode: "ranked" },
      { ...good(), ticketId: "ok-3", playerId: "ok3" },
    ];
    const out = await store.enqueue(batch);
    expect(out.results.map((r) => [r.playerId, r.outcome, r.outcome === "rejected" ? r.error : ""])).toEqual([
      ["ok1", "queued", ""],
      ["bad one", "rejected", "invalid_playerId"],
      ["ok2", "queued", ""],
      ["bad2", "rejected", "unknown_mode"],
      ["ok3", "queued", ""],
    ]);
    expect(await raw.sessionMembers(`${REGION}.1`)).toEqual(["ok1", "ok3"]);
    expect(await raw.exists("Player", "bad2")).toBe(false);
  });
});

const goodLeave = (): LeaveRequest => ({ playerId: "p9", ticketId: "t9", region: REGION, reason: "cancelled" });
const leaveTable: Row[] = [
  ["unknown reason", { reason: "bored" }, "invalid_reason", "timedOut, cancelled, expired"],
  ["missing reason", { reason: undefined }, "invalid_reason", "timedOut"],
  ["bad playerId", { playerId: "p 9" }, "invalid_playerId", '"p 9"'],
  ["bad ticketId", { ticketId: "" }, "invalid_ticketId", "1-64"],
  ["bad region", { region: "EU" }, "invalid_region", "must be one of"],
  ["unknown mode", { mode: "ranked" }, "unknown_mode", "ranked"],
  ["unknown field", { why: "x" }, "unknown_field", "why"],
];

describe("leave input validation", () => {
  let n = 0;
  it.each(titled(leaveTable))("%s -> %s", async (_what, error, patch, detail) => {
    const results = await store.leave([
      patched(goodLeave(), patch) as unknown as LeaveRequest,
      { ...goodLeave(), playerId: `leaver-${++n}`, ticketId: `leave-ticket-${n}` },
    ]);
    const res = at(results, 0);
    const okRes = at(results, 1);
    expect(res).toMatchObject({ outcome: "rejected", error });
    expect(res.outcome === "rejected" && res.detail).toContain(detail);
    expect(okRes.outcome).toBe("preempted");
  });
});

describe("server input validation", () => {
  const addressTable: [string, unknown, string][] = [
    ["no port", "10.0.0.1", "invalid_address"],
    ["port 0", "10.0.0.1:0", "invalid_address"],
    ["port 70000", "10.0.0.1:70000", "invalid_address"],
    ["empty", "", "invalid_address"],
    ["a number", 7777, "invalid_address"],
    ["underscore host", "game_1:7777", "invalid_address"],
    ["a URL", "udp://10.0.0.1:7777", "invalid_address"],
  ];
  it.each(addressTable)("address %s -> %s", async (_what, address, error) => {
    const out = await store.registerServer({ serverId: "s1", region: REGION, address: address as string });
    expect(out).toMatchObject({ outcome: "rejected", error });
    expect(await store.getServer(REGION, "s1")).toBeNull();
  });

  it.each([
    ["DNS name", "game-1.example.com:7777"],
    ["IPv4", "10.0.0.1:65535"],
    ["IPv6", "[2001:db8::1]:7777"],
  ])("address as %s is accepted", async (_what, address) => {
    const out = await store.registerServer({ serverId: `ok-${address.length}`, region: REGION, address });
    expect(out.outcome).toMatch(/registered|heartbeat/);
  });

  it("bad serverId and region are rejected on register", async () => {
    expect(await store.registerServer({ serverId: "s 1", region: REGION, address: "h:1" })).toMatchObject({ outcome: "rejected", error: "invalid_serverId" });
    expect(await store.registerServer({ serverId: "s1", region: "mars", address: "h:1" })).toMatchObject({ outcome: "rejected", error: "unknown_region" });
  });

  it.each([
    ["release with a bad serverId", () => store.releaseServer({ serverId: "", region: REGION }), "invalid_serverId"],
    ["release with a bad sessionId", () => store.releaseServer({ serverId: "s1", region: REGION, sessionId: "../x" }), "invalid_sessionId"],
    ["release in an unknown region", () => store.releaseServer({ serverId: "s1", region: "mars" }), "unknown_region"],
    ["deregister with a bad serverId", () => store.deregisterServer({ serverId: "a/b", region: REGION }), "invalid_serverId"],
    ["getPlayer with a bad playerId", () => store.getPlayer(REGION, "x y"), "invalid_playerId"],
    ["getServer with a bad serverId", () => store.getServer(REGION, "{x}"), "invalid_serverId"],
    ["assign in a malformed region", () => store.assign("EU"), "invalid_region"],
    ["stats in an unknown region", () => store.stats("mars"), "unknown_region"],
    ["dead letters of a bad source", () => store.listDeadLetters("a:b"), "invalid_source"],
  ] as const)("%s throws StoreInputError %s", async (_what, call, error) => {
    const err = await (call as () => Promise<unknown>)().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreInputError);
    expect((err as StoreInputError).error).toBe(error);
  });
});
