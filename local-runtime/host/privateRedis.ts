/**
 * The Redis the local runtime uses when REDIS_CONNECTION_STRING is unset: a private, persistent redis-server
 * (AOF in `.local/redis`) on a fixed loopback port, so that `npm start` after a stop finds its state again.
 *
 * It ends with the runtime however the runtime ends (a watchdog holds a pipe from the runtime, see
 * redisServer.ts). A server of an earlier run that still holds the port with the same data directory (one
 * started before the watchdog existed, or left by a crash of the watchdog) is reused, and stopped when this
 * runtime stops: it is found through its pid file, checked against the pid the server itself reports.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startRedisServer } from "../redisServer";

export const DEFAULT_LOCAL_REDIS_PORT = 6399;

/** Sends one inline command and returns the raw reply (enough for PING / CONFIG GET / INFO). */
function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolveReply) => {
    let data = "";
    const sock = createConnection({ port, host: "127.0.0.1" }, () => sock.write(`${command}\r\n`));
    const done = (v: string | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolveReply(v);
    };
    const timer = setTimeout(() => done(data || undefined), timeoutMs);
    sock.on("data", (d) => {
      data += d.toString();
      if (data.startsWith("$")) {
        // Bulk string: complete once the announced length has arrived.
        const header = /^\$(-?\d+)\r\n/.exec(data);
        if (header && (Number(header[1]) < 0 || Buffer.byteLength(data) >= header[0].length + Number(header[1]) + 2)) done(data);
      } else if (/\r\n$/.test(data) && (!data.startsWith("*") || data.split("\r\n").length >= 5)) done(data);
    });
    sock.once("error", () => done(undefined));
  });
}

/** The pid of the server on `port` whose pid file in `dir` names it, or undefined. */
async function reusedServerPid(port: number, dir: string): Promise<number | undefined> {
  const file = join(dir, "redis.pid");
  if (!existsSync(file)) return undefined;
  const fromFile = Number(readFileSync(file, "utf8").trim());
  const info = await rawCommand(port, "INFO server");
  const reported = Number(/process_id:(\d+)/.exec(info ?? "")?.[1]);
  return Number.isInteger(fromFile) && fromFile > 0 && fromFile === reported ? fromFile : undefined;
}

async function stopByPid(pid: number, port: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM"); // redis-server's graceful shutdown: the AOF is flushed
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await rawCommand(port, "PING", 300))?.startsWith("+PONG")) await sleep(50);
}

export async function startPrivateRedis(o: { persistDir: string; port?: number }): Promise<{ url: string; stop(): Promise<void>; reused: boolean }> {
  const dir = resolve(o.persistDir);
  mkdirSync(dir, { recursive: true });
  const port = o.port ?? DEFAULT_LOCAL_REDIS_PORT;
  const reply = await rawCommand(port, "CONFIG GET dir");
  if (reply?.includes(dir)) {
    const pid = await reusedServerPid(port, dir);
    return { url: `redis://127.0.0.1:${port}`, stop: async () => (pid ? stopByPid(pid, port) : undefined), reused: true };
  }
  // When someone else's server holds the port, ours runs on a free one (its state is in the directory, not the port).
  const handle = await startRedisServer({ persistDir: dir, port: reply === undefined ? port : undefined, detached: true, dieWithParent: true });
  return { url: handle.url, stop: () => handle.stop(), reused: false };
}
