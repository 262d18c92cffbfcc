import { inject } from "vitest";
import { defineServerSuite } from "./serversSuite";

defineServerSuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
