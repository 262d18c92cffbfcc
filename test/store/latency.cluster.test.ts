/** Regions chosen by latency on a local 3-master Redis Cluster: a zone's regions and its pool share one hash slot. */
import { afterAll, beforeAll } from "vitest";
import { startRedisCluster, type RedisClusterHandle } from "../../local-runtime/redisServer";
import { defineLatencySuite } from "./latencySuite";

let cluster: RedisClusterHandle | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

defineLatencySuite("3-master Redis Cluster", () => {
  if (!cluster) throw new Error("cluster not started");
  return { kind: "cluster", rootNodes: cluster.rootNodes };
});
