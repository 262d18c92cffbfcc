/**
 * Stats of a latency pool (issue 14): a pooled ticket is in no region until a group is placed, so the pool is
 * its own figure (`latencyPool`, on the slot's first region, the one that sweeps it) with its waiting counts
 * and its oldest wait, and no region counts it. Once placed, the players count in the region they were placed
 * in. On a standalone redis-server and a 3-master cluster (the pool's keys share the region's slot).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { EnqueueRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import type { ModeSpec } from "../../src/domain/modeRules";
import { useRedisCluster } from "../support/clusterTarget";
import { connect, makeStore, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";

const MODES: Record<string, ModeSpec> = { duel: 2, geo: { teamSize: 2, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } } };
const EU = ["westeurope", "northeurope", "uksouth"];
const REGIONS = [...EU, "japaneast"];
const ZONES: Record<string, string> = { westeurope: "eu", northeurope: "eu", uksouth: "eu" };

function defineLatencyStats(targetName: string, getTarget: () => StoreTarget): void {
  describe(`stats of a latency pool on ${targetName}`, () => {
    let redis: RedisConnection;
    beforeAll(async () => {
      redis = await connect(getTarget());
    });
    afterAll(async () => {
      await redis?.close();
    });

    function fresh(): { clock: TestClock; store: MatchmakingStore; geo: (id: string, latencies: Record<string, number>) => EnqueueRequest } {
      const clock = new TestClock();
      const store = makeStore(redis, clock, { prefix: uniquePrefix(), modes: MODES, regions: REGIONS, zones: ZONES });
      const geo = (id: string, latencies: Record<string, number>): EnqueueRequest => ({
        ticketId: `t-${id}`,
        playerId: id,
        mode: "geo",
        region: Object.entries(latencies).sort((a, b) => a[1] - b[1])[0]![0],
        requestedAtMs: clock.ms,
        latencies,
      });
      return { clock, store, geo };
    }

    it("pooled tickets are the pool's figure on the zone's first region (waiting, by mode, oldest wait), counted in no region", async () => {
      const { clock, store, geo } = fresh();
      // Three tickets too far to be placed together (no region within 80 ms of two of them), homed in three regions.
      const alice = geo("alice", { westeurope: 120 });
      await store.enqueue([alice]);
      clock.advance(2000);
      await store.enqueue([geo("bob", { northeurope: 130 }), geo("carol", { uksouth: 140 })]);
      clock.advance(1000);
      await store.enqueue([{ ticketId: "t-dan", playerId: "dan", mode: "duel", region: "westeurope", requestedAtMs: clock.ms }]);
      clock.advance(500);

      const first = await store.stats("westeurope");
      expect(first).toMatchObject({ waitingPlayers: 1, waitingByMode: { duel: 1, geo: 0 }, oldestWaitMs: 500 });
      expect(first.latencyPool).toEqual({ regions: EU, waitingPlayers: 3, waitingByMode: { geo: 3 }, oldestWaitMs: 3500 });
      // The other regions of the zone report neither the pool nor its tickets homed there.
      for (const region of ["northeurope", "uksouth"]) {
        const st = await store.stats(region);
        expect(st).toMatchObject({ waitingPlayers: 0, waitingByMode: { duel: 0, geo: 0 }, oldestWaitMs: 0 });
        expect(st.latencyPool).toBeUndefined();
      }

      // A placed pair counts in the region it was placed in, not in the pool.
      const placed = await store.enqueue([geo("erin", { uksouth: 20 }), geo("finn", { uksouth: 30 })]);
      expect(placed.readySessions).toEqual([{ region: "uksouth", sessionId: "uksouth.1" }]);
      expect((await store.stats("uksouth")).waitingByMode.geo).toBe(2);
      expect((await store.stats("westeurope")).latencyPool).toMatchObject({ waitingPlayers: 3, waitingByMode: { geo: 3 } });

      // The oldest pooled ticket leaves: the oldest wait is the next one's.
      expect((await store.leave([{ playerId: "alice", ticketId: alice.ticketId, region: alice.region, reason: "cancelled" }]))[0]).toMatchObject({
        outcome: "left",
      });
      expect((await store.stats("westeurope")).latencyPool).toEqual({ regions: EU, waitingPlayers: 2, waitingByMode: { geo: 2 }, oldestWaitMs: 1500 });
    });

    it("a region in no zone reports its own pool; an empty pool reports zeros", async () => {
      const { clock, store, geo } = fresh();
      expect((await store.stats("westeurope")).latencyPool).toEqual({ regions: EU, waitingPlayers: 0, waitingByMode: { geo: 0 }, oldestWaitMs: 0 });
      await store.enqueue([geo("kai", { japaneast: 200 })]);
      clock.advance(4000);
      const st = await store.stats("japaneast");
      expect(st).toMatchObject({ waitingPlayers: 0, waitingByMode: { geo: 0 }, oldestWaitMs: 0 });
      expect(st.latencyPool).toEqual({ regions: ["japaneast"], waitingPlayers: 1, waitingByMode: { geo: 1 }, oldestWaitMs: 4000 });
      expect((await store.stats("westeurope")).latencyPool?.waitingPlayers).toBe(0);
    });
  });
}

defineLatencyStats("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
defineLatencyStats("3-master Redis Cluster", useRedisCluster());
