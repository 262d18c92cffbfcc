import { inject } from "vitest";
import { defineLatencySuite } from "./latencySuite";

defineLatencySuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
