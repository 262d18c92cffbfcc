/**
 * Starts the real app (src/index.ts) in the local runtime for an end-to-end test file, isolated under its
 * own Redis key prefix on the shared test redis-server, on a free port.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import { startLocalRuntime, type LocalRuntime } from "../../local-runtime/host/runtime";
import { requestJson } from "../../tools/jsonHttp";

const repoRoot = join(__dirname, "..", "..");

async function startApp(env: Record<string, string> = {}): Promise<LocalRuntime> {
  const prefix = `e2e-${randomUUID().slice(0, 8)}`;
  const rt = await startLocalRuntime({
    appDir: repoRoot,
    port: 0,
    env: {
      REDIS_CONNECTION_STRING: inject("redisUrl"),
      REDIS_KEY_PREFIX: prefix,
      TICKET_SIGNING_KEY: "e2e-ticket-signing-key-0123456789abcdef",
      LOCAL_FUNCTION_KEY: "e2e-function-key",
      LOCAL_MASTER_KEY: "e2e-master-key",
      ...env,
    },
    log: (m) => {
      if (process.env.E2E_VERBOSE) console.log(m);
    },
  });
  return rt;
}

/**
 * The per-file setup of an end-to-end test: starts the app before the file's tests and stops it after.
 * Returns the running app (available once the file's tests run).
 */
export function useApp(env: Record<string, string> = {}): () => LocalRuntime {
  let rt: LocalRuntime | undefined;
  beforeAll(async () => {
    rt = await startApp(env);
  });
  afterAll(async () => {
    await rt?.stop();
  });
  return () => rt!;
}

/** The settings of a matchmaking test: modes, regions and timeout. */
export function matchSettings(modes: Record<string, number>, regions: string[], timeoutSeconds: number): Record<string, string> {
  return { MATCH_MODES: JSON.stringify(modes), MATCH_REGIONS: JSON.stringify(regions), MATCH_TIMEOUT_SECONDS: String(timeoutSeconds) };
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Api {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
}

export function api(rt: LocalRuntime): Api {
  return {
    async call(method, path, body, headers = {}) {
      return requestJson(path.startsWith("http") ? path : `${rt.baseUrl}${path}`, method, body, headers);
    },
  };
}
