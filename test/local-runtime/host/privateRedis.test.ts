/**
 * The private redis-server `npm start` uses without REDIS_CONNECTION_STRING: persistent across restarts,
 * reused when an earlier one still holds the port (and then stopped with the runtime), and a clear error when redis-server is not installed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, expect, it } from "vitest";
import { startPrivateRedis } from "../../../local-runtime/host/privateRedis";
import { freePort, RedisServerMissingError, REDIS_MISSING_MESSAGE } from "../../../local-runtime/redisServer";

const dir = mkdtempSync(join(tmpdir(), "mm-private-redis-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withClient<T>(url: string, fn: (c: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const c = createClient({ url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.quit();
  }
}

it("keeps its data across a stop and start, and reuses a server that still runs on its directory", async () => {
  const port = await freePort();
  const first = await startPrivateRedis({ persistDir: dir, port });
  expect(first.reused).toBe(false);
  expect(first.url).toBe(`redis://127.0.0.1:${port}`);
  await withClient(first.url, async (c) => {
    await c.set("survives", "yes");
    // appendfsync everysec: make the write durable now rather than waiting a second.
    await c.sendCommand(["BGREWRITEAOF"]);
    for (let i = 0; i < 100 && String(await c.sendCommand(["INFO", "persistence"])).includes("aof_rewrite_in_progress:1"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  const again = await startPrivateRedis({ persistDir: dir, port });
  expect(again.reused).toBe(true);
  // A reused server is stopped with the runtime that reused it (found through its pid file).
  await again.stop();
  await expect(withClient(first.url, (c) => c.ping())).rejects.toThrow();
  await first.stop();
  const restarted = await startPrivateRedis({ persistDir: dir, port });
  expect(restarted.reused).toBe(false);
  await withClient(restarted.url, async (c) => expect(await c.get("survives")).toBe("yes"));
  await restarted.stop();
});

it("fails with the install hint when redis-server is missing", async () => {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    await expect(startPrivateRedis({ persistDir: dir, port: await freePort() })).rejects.toBeInstanceOf(RedisServerMissingError);
  } finally {
    process.env.PATH = path;
  }
  expect(REDIS_MISSING_MESSAGE).toContain("apt-get install -y redis-server");
});
