/** The game-server suite on a local 3-master Redis Cluster: the server index and each region are separate hash slots. */
import { afterAll, beforeAll } from "vitest";
import { startRedisCluster, type RedisClusterHandle } from "../../local-runtime/redisServer";
import { defineServerSuite } from "./serversSuite";

let cluster: RedisClusterHandle | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

defineServerSuite("3-master Redis Cluster", () => {
  if (!cluster) throw new Error("cluster not started");
  return { kind: "cluster", rootNodes: cluster.rootNodes };
});
