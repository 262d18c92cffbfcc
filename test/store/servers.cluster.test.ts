/** The game-server suite on a local 3-master Redis Cluster: the server index and each region are separate hash slots. */
import { useRedisCluster } from "../support/clusterTarget";
import { defineServerSuite } from "./serversSuite";

defineServerSuite("3-master Redis Cluster", useRedisCluster());
