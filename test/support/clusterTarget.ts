/**
 * A local 3-master Redis Cluster for one test file's suites: started before them, stopped after. Returns the
 * target the suites connect to (the cluster variants of the store, server, backfill and latency suites).
 */
import { afterAll, beforeAll } from "vitest";
import { startRedisCluster, type RedisClusterHandle } from "../../local-runtime/redisServer";
import type { StoreTarget } from "./storeHarness";

export function useRedisCluster(): () => StoreTarget {
  let cluster: RedisClusterHandle | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error("cluster not started");
    return { kind: "cluster", rootNodes: cluster.rootNodes };
  };
}
