/**
 * Vitest global setup: one private, non-persistent redis-server for the whole run, on a free port.
 * Test files get its URL with `inject("redisUrl")` and isolate themselves with a unique key prefix.
 */
import type { TestProject } from "vitest/node";
import { startRedisServer, redisServerAvailable, type RedisServerHandle } from "../../local-runtime/redisServer";

/** What `npm test` says, before anything else, on a machine without redis-server. */
export const TESTS_NEED_REDIS_MESSAGE =
  "npm test needs redis-server on PATH: the tests start their own private redis-server processes on free ports " +
  "(one for the run, a 3-master cluster for the store suite) and never use an existing Redis.\n" +
  "Install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), then run npm test again.";

/** Called by vitest.config.mts before vitest looks for test files, so this is the first thing a user reads. */
export function exitUnlessRedisServer(): void {
  if (redisServerAvailable()) return;
  process.stderr.write(`\n${TESTS_NEED_REDIS_MESSAGE}\n\n`);
  process.exit(1);
}

let server: RedisServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!redisServerAvailable()) throw new Error(TESTS_NEED_REDIS_MESSAGE);
  server = await startRedisServer();
  project.provide("redisUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
