/**
 * `npm start`: runs the matchmaker on this machine with the local runtime (development only).
 *
 *   npm start                      # port 7071 (or LOCAL_PORT), settings from local.settings.json
 *   npm start -- --port 8080
 *
 * Production runs on the Azure Functions host; `func start` (Core Tools) also works, see the README.
 */
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { RedisServerMissingError, REDIS_MISSING_MESSAGE } from "./redisServer";
import { startLocalRuntime, type LocalRuntime } from "./host/runtime";
import { banner } from "./host/banner";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function appDir(): string {
  // dist/local-runtime/main.js -> the package root, where host.json and local.settings.json live.
  const fromDist = resolve(__dirname, "..", "..");
  return existsSync(resolve(process.cwd(), "host.json")) ? process.cwd() : fromDist;
}

async function main(): Promise<void> {
  const portArg = arg("port");
  const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${m}`);
  let rt: LocalRuntime;
  try {
    rt = await startLocalRuntime({ appDir: appDir(), port: portArg ? Number(portArg) : undefined, log });
  } catch (err) {
    if (err instanceof RedisServerMissingError) {
      console.error(REDIS_MISSING_MESSAGE);
    } else {
      console.error(`The local runtime could not start: ${(err as Error).message}`);
    }
    process.exit(1);
  }
  console.log(banner(rt));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping (Ctrl+C again to force)...`);
    rt.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`Stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

void main();
