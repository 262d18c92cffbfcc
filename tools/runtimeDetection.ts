/**
 * Is `npm start` already running? `npm run simulate` without --url starts a local runtime in its own process;
 * next to a running `npm start` (same local.settings.json, so the same Redis and key prefix) that second
 * runtime would consume the same Event Hub partitions and drive the same Durable instances: batches fail
 * with 409s and the counts it prints are wrong. So the simulator looks first and asks for --url instead.
 *
 * If the local runtime exports its own detection (`findRunningLocalRuntime(appDir)`), that is used; otherwise the
 * runtime is looked for where `npm start` listens (LOCAL_PORT, else local.settings.json Host.LocalHttpPort,
 * else 7071), by its local metrics endpoint, which only the local runtime serves.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseJsonc } from "jsonc-parser";

export const LOCAL_METRICS_PATH = "/runtime/local/metrics";

/** The port `npm start` uses for this app folder. */
export function localRuntimePort(appDir: string, env: NodeJS.ProcessEnv = process.env): number {
  if (env.LOCAL_PORT && Number(env.LOCAL_PORT) > 0) return Number(env.LOCAL_PORT);
  const file = join(appDir, "local.settings.json");
  if (existsSync(file)) {
    const settings = parseJsonc(readFileSync(file, "utf8")) as { Host?: { LocalHttpPort?: unknown } } | undefined;
    const port = Number(settings?.Host?.LocalHttpPort);
    if (Number.isInteger(port) && port > 0) return port;
  }
  return 7071;
}

/** The base URL of a local runtime answering on `port` of this machine, or undefined. */
export async function probeLocalRuntime(port: number, timeoutMs = 1000): Promise<string | undefined> {
  const baseUrl = `http://localhost:${port}`;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${LOCAL_METRICS_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as Record<string, unknown> | null;
    return body && typeof body === "object" && "invocations" in body && "durable" in body ? baseUrl : undefined;
  } catch {
    return undefined;
  }
}

type RuntimeFinder = (appDir: string) => Promise<string | undefined>;

/** The base URL of a running `npm start` for `appDir`, or undefined. */
export async function findRunningLocalRuntime(appDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const runtime = (await import("../local-runtime/host/runtime.js")) as Record<string, unknown>;
  const own = runtime.findRunningLocalRuntime;
  if (typeof own === "function") return (own as RuntimeFinder)(appDir);
  return probeLocalRuntime(localRuntimePort(appDir, env));
}

export function secondRuntimeMessage(baseUrl: string): string {
  return (
    `A local runtime (npm start) is already running at ${baseUrl}, on the same Redis and key prefix that this simulator's own runtime would use.\n` +
    `Two runtimes would consume the same Event Hub partitions and Durable instances (409 batch failures, wrong counts).\n` +
    `Run the simulation against it instead:  npm run simulate -- --url ${baseUrl}\n` +
    `(or stop npm start first).`
  );
}
