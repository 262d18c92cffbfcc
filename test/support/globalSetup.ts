/**
 * Vitest global setup: one private, non-persistent redis-server for the whole run, on a free port.
 * Test files get its URL with `inject("redisUrl")` and isolate themselves with a unique key prefix.
 */
import type { TestProject } from "vitest/node";
import { startRedisServer, redisServerAvailable, REDIS_MISSING_MESSAGE, type RedisServerHandle } from "../../local-runtime/redisServer";

let server: RedisServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING_MESSAGE);
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
