/** The backfill suite against a local 3-master Redis Cluster (a region's keys, backfill ones too, share one slot). */
import { useRedisCluster } from "../support/clusterTarget";
import { defineBackfillSuite } from "./backfillSuite";

defineBackfillSuite("3-master Redis Cluster", useRedisCluster());
