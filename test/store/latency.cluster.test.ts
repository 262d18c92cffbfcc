/** Regions chosen by latency on a local 3-master Redis Cluster: a zone's regions and its pool share one hash slot. */
import { useRedisCluster } from "../support/clusterTarget";
import { defineLatencySuite } from "./latencySuite";

defineLatencySuite("3-master Redis Cluster", useRedisCluster());
