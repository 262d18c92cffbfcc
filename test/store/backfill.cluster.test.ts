/** The backfill suite against a local 3-master Redis Cluster (a region's keys, backfill ones too, share one slot). */
import { afterAll, beforeAll } from "vitest";
import { startRedisCluster, type RedisClusterHandle } from "../../local-runtime/redisServer";
import { defineBackfillSuite } from "./backfillSuite";

let cluster: RedisClusterHandle | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

defineBackfillSuite("3-master Redis Cluster", () => {
  if (!cluster) throw new Error("cluster not started");
  return { kind: "cluster", rootNodes: cluster.rootNodes };
});
