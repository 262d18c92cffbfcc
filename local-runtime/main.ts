/**
 * `npm start`: runs the matchmaker on this machine with the local runtime (development only).
 *
 *   npm start                      # port 7071 (or LOCAL_PORT), settings from local.settings.json
 *   npm start -- --port 8080
 *
 * Every way of stopping ends the runtime and its private redis-server: Ctrl+C (SIGINT), SIGTERM, SIGHUP, and
 * the parent going away (`kill -TERM <npm pid>` leaves this process to init: it notices and stops). Production
 * runs on the Azure Functions host; `func start` (Core Tools) also works, see the README.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { banner } from "./host/banner";
import { startLocalRuntime, type LocalRuntime } from "./host/runtime";
import { RedisServerMissingError, REDIS_MISSING_MESSAGE } from "./redisServer";

const USAGE = "Usage: npm start [-- --port <port>]\n  --port   HTTP port (default LOCAL_PORT, local.settings.json Host.LocalHttpPort, or 7071)";
const PARENT_CHECK_MS = 500;

function appDir(): string {
  // dist/local-runtime/main.js -> the package root, where host.json and local.settings.json live.
  const fromDist = resolve(__dirname, "..", "..");
  return existsSync(resolve(process.cwd(), "host.json")) ? process.cwd() : fromDist;
}

function cliPort(): number | undefined {
  const { values } = parseArgs({ options: { port: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.port === undefined) return undefined;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${JSON.stringify(values.port)}`);
  return port;
}

function startFailure(err: unknown): never {
  if (err instanceof RedisServerMissingError) console.error(REDIS_MISSING_MESSAGE);
  else console.error(`The local runtime could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

/** Stops once on the first reason; a second signal exits at once. */
function installShutdown(rt: LocalRuntime): (reason: string) => void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) {
      console.error(`${reason} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${reason}: stopping (Ctrl+C again to force)...`);
    rt.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`Stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
  // npm does not always pass a signal on to us; when our parent is gone we are re-parented: stop then too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown(`parent process ${parent} exited`);
  }, PARENT_CHECK_MS).unref();
  return shutdown;
}

async function main(): Promise<void> {
  const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${m}`);
  let rt: LocalRuntime;
  try {
    const port = cliPort();
    const shutdown: { run?: (reason: string) => void } = {};
    rt = await startLocalRuntime({
      appDir: appDir(),
      port,
      log,
      onLeaseLost: (why) => {
        console.error(`ERROR: ${why}`);
        shutdown.run?.("runtime lease lost");
      },
    });
    shutdown.run = installShutdown(rt);
  } catch (err) {
    startFailure(err);
  }
  console.log(banner(rt));
}

void main();
