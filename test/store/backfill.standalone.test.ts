import { inject } from "vitest";
import { defineBackfillSuite } from "./backfillSuite";

defineBackfillSuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
