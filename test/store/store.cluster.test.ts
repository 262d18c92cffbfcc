/** The same store suite against a local 3-master Redis Cluster (all keys of a region share one hash slot). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "redis";
import { startRedisCluster, type RedisClusterHandle } from "../../local-runtime/redisServer";
import { connect, makeStore, TestClock, uniquePrefix } from "../support/storeHarness";
import { defineStoreSuite } from "./storeSuite";
import { defineRulesSuite } from "./rulesSuite";

let cluster: RedisClusterHandle | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const target = () => {
  if (!cluster) throw new Error("cluster not started");
  return { kind: "cluster" as const, rootNodes: cluster.rootNodes };
};

defineStoreSuite("3-master Redis Cluster", target);
defineRulesSuite("3-master Redis Cluster", target);

describe("cluster layout", () => {
  it("regions spread over the masters, and each region's keys live on exactly one of them", async () => {
    const redis = await connect(target());
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const store = makeStore(redis, clock, { prefix });
    const regions = Array.from({ length: 12 }, (_, i) => `region-${i}`);
    const out = await store.enqueue(
      regions.flatMap((region) => [0, 1].map((k) => ({ ticketId: `t-${region}-${k}`, playerId: `p${k}`, mode: "duel", region, requestedAtMs: clock.ms }))),
    );
    expect(out.results.every((r) => r.outcome === "queued")).toBe(true);
    expect(out.readySessions).toHaveLength(12);
    // A serverId lives in one region (the global server index): one server per region, each at its own address.
    for (const [i, region] of regions.entries()) await store.registerServer({ serverId: `s-${region}`, region, address: `10.0.${i}.1:7777` });
    for (const region of regions) expect((await store.assign(region)).assigned).toHaveLength(1);
    await redis.close();

    const nodesWithKeys = new Map<string, number[]>(); // region -> ports holding its keys
    for (const port of cluster!.ports) {
      const node = createClient({ url: `redis://127.0.0.1:${port}` });
      await node.connect();
      const keys = await node.keys(`${prefix}:*`);
      await node.close();
      for (const k of keys) {
        const region = /\{([^}]+)\}/.exec(k)![1]!;
        if (region === "_servers") continue; // the global server index: its own slot, not a region's
        const ports = nodesWithKeys.get(region) ?? [];
        if (!ports.includes(port)) ports.push(port);
        nodesWithKeys.set(region, ports);
      }
    }
    expect([...nodesWithKeys.keys()].sort()).toEqual([...regions].sort());
    for (const [region, ports] of nodesWithKeys) expect(ports, region).toHaveLength(1);
    expect(new Set([...nodesWithKeys.values()].map((p) => p[0])).size).toBe(3);
  });
});
