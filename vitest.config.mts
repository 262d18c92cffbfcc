import { defineConfig } from "vitest/config";
import { exitUnlessRedisServer } from "./test/support/globalSetup.js";

// Without redis-server nothing can run: say so first and clearly (vitest would otherwise report its own
// "No test files found" before the global setup's error).
exitUnlessRedisServer();

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One private redis-server for the whole run; each test file works under its own key prefix.
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only adds contention with redis-server itself.
    maxWorkers: 2,
  },
});
