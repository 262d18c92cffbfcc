/**
 * The orchestrator's leave carries its ticket's requestedAt (src/store/consistency.md, the player record as
 * the redelivery guard): a late leave of an old ticket (a redelivered or slow leaveQueue activity) that
 * reaches the store after the player's next ticket was matched is "superseded" and leaves that match alone.
 * Without requestedAt the store cannot tell it from a leave that overtook its own request, and replaced the
 * player's record (detaching the matched player from its game). Real store, real redis.
 */
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { RedisConnection } from "../../src/store";
import { leaveQueue } from "../../src/usecases/leaveQueue";
import { connect, makeStore, RawRegion, REGION, TestClock, uniquePrefix } from "../support/storeHarness";

let redis: RedisConnection;
beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
});
afterAll(async () => {
  await redis.close();
});

it("a late leave of an old ticket is superseded by the player's matched later ticket, which keeps its game", async () => {
  const clock = new TestClock();
  const prefix = uniquePrefix();
  const store = makeStore(redis, clock, { prefix });
  const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const ports = { store, log };
  const old = { playerId: "alice", ticketId: "tk-old", region: REGION, reason: "timedOut" as const, requestedAt: new Date(clock.ms).toISOString() };
  await store.enqueue([{ playerId: "alice", ticketId: "tk-old", mode: "duel", region: REGION, requestedAtMs: clock.ms }]);
  expect(await leaveQueue(ports, old)).toMatchObject({ outcome: "left" });
  // The player's next ticket, a second later, is matched.
  clock.advance(1000);
  await store.enqueue([
    { playerId: "alice", ticketId: "tk-new", mode: "duel", region: REGION, requestedAtMs: clock.ms },
    { playerId: "bob", ticketId: "tk-bob", mode: "duel", region: REGION, requestedAtMs: clock.ms },
  ]);
  await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7000" });
  const [game] = (await store.assign(REGION)).assigned;
  expect(game?.players.map((p) => p.playerId).sort()).toEqual(["alice", "bob"]);
  // The old ticket's leave arrives once more, late.
  expect(await leaveQueue(ports, old)).toMatchObject({ outcome: "superseded" });
  expect(await store.getPlayer(REGION, "alice")).toMatchObject({ ticketId: "tk-new", state: "matched", sessionId: game!.sessionId, serverId: "s1" });
  expect(await new RawRegion(redis, prefix).sessionMembers(game!.sessionId)).toEqual(expect.arrayContaining(["alice", "bob"]));
});
