import { defineConfig } from "vitest/config";
import { spawnSync } from "node:child_process";

// Without redis-server nothing can run: say so first and clearly (vitest would otherwise report its own
// "No test files found" before the global setup's error). Checked here, before vitest looks for test files.
const redisProbe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
if (redisProbe.error || redisProbe.status !== 0) {
  process.stderr.write(
    "\nnpm test needs redis-server on PATH: the tests start their own private redis-server processes on free ports " +
      "(one for the run, a 3-master cluster for the store suite) and never use an existing Redis.\n" +
      "Install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), then run npm test again.\n\n",
  );
  process.exit(1);
}

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
