/**
 * The Redis the local runtime uses when REDIS_CONNECTION_STRING is unset: a private, persistent redis-server
 * (AOF in `.local/redis`) on a fixed loopback port, so that `npm start` after a stop finds its state again.
 * If a redis-server from an earlier run still holds that port with the same data directory, it is reused.
 */
import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { resolve } from "node:path";
import { startRedisServer } from "../redisServer";

export const DEFAULT_LOCAL_REDIS_PORT = 6399;

/** Sends one inline command and returns the raw reply (enough for PING / CONFIG GET). */
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
      if (/\r\n$/.test(data) && (!data.startsWith("*") || data.split("\r\n").length >= 5)) done(data);
    });
    sock.once("error", () => done(undefined));
  });
}

export async function startPrivateRedis(o: { persistDir: string; port?: number }): Promise<{ url: string; stop(): Promise<void>; reused: boolean }> {
  const dir = resolve(o.persistDir);
  mkdirSync(dir, { recursive: true });
  const port = o.port ?? DEFAULT_LOCAL_REDIS_PORT;
  const reply = await rawCommand(port, "CONFIG GET dir");
  if (reply?.includes(dir)) return { url: `redis://127.0.0.1:${port}`, stop: async () => undefined, reused: true };
  // When someone else's server holds the port, ours runs on a free one (its state is in the directory, not the port).
  const handle = await startRedisServer({ persistDir: dir, port: reply === undefined ? port : undefined, detached: true });
  return { url: handle.url, stop: () => handle.stop(), reused: false };
}
