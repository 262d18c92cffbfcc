/**
 * The sweeper regroups (issue 11): two skill-duel players too far apart for the base window wait in two
 * sessions; once their wait has widened the window, one sweep (src/usecases/sweepRegion.ts, on the real
 * store and redis) merges them and gives the merged session a server and a match-made message.
 */
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { loadSettings } from "../../src/config/settings";
import { MemoryEventPublisher } from "../../src/messaging/eventPublisher";
import type { RedisConnection } from "../../src/store";
import { sweepRegion } from "../../src/usecases/sweepRegion";
import { connect, makeStore, REGION, TestClock, uniquePrefix } from "../support/storeHarness";

let redis: RedisConnection;
beforeAll(async () => {
  redis = await connect({ kind: "standalone", url: inject("redisUrl") });
});
afterAll(async () => {
  await redis.close();
});

it("a sweep merges sessions whose widened window lets them fill, and assigns the result", async () => {
  const modes = { duo: { teamSize: 2, skill: { window: 100, widen: [{ afterSeconds: 15, window: 400 }] } } };
  const settings = loadSettings({ TICKET_SIGNING_KEY: "k".repeat(32), MATCH_MODES: JSON.stringify(modes), MATCH_REGIONS: JSON.stringify([REGION]) });
  const clock = new TestClock();
  const store = makeStore(redis, clock, { prefix: uniquePrefix(), modes });
  const publisher = new MemoryEventPublisher();
  const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const ports = { settings, store, publisher, log, clock: clock.now };
  const queued = await store.enqueue(
    [
      ["a", 1000],
      ["b", 1300],
    ].map(([playerId, skill]) => ({
      ticketId: `t-${playerId}`,
      playerId: String(playerId),
      mode: "duo",
      region: REGION,
      requestedAtMs: clock.ms,
      skill: Number(skill),
    })),
  );
  expect(queued.readySessions).toEqual([]);
  await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7000" });
  expect((await sweepRegion(ports, REGION)).assigned).toBe(0);
  clock.advance(15_000);
  const sweep = await sweepRegion(ports, REGION);
  expect(sweep.assigned).toBe(1);
  const [made] = publisher.bodies("match-made") as { sessionId: string; players: { playerId: string }[] }[];
  expect(made?.players.map((p) => p.playerId).sort()).toEqual(["a", "b"]);
  expect(await store.getPlayer(REGION, "b")).toMatchObject({ state: "matched", sessionId: made?.sessionId, quality: { skillSpread: 300 } });
});
