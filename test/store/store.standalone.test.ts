import { inject } from "vitest";
import { defineStoreSuite } from "./storeSuite";

defineStoreSuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
