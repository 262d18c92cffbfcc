/**
 * The rate-limit script (src/store/lua/rateLimit.lua) on a real redis-server: atomic under concurrency,
 * shared by every connection (= every app instance), a fixed window that ends, and bad input refused
 * before any write.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRedisConnection, type MatchmakingStore, type RedisConnection } from "../../src/store";
import { rateLimitKey } from "../../src/store/keys";
import { loadScripts } from "../../src/store/scriptLoader";
import { makeStore, TestClock, uniquePrefix } from "../support/storeHarness";

let a: RedisConnection;
let b: RedisConnection;
let storeA: MatchmakingStore;
let storeB: MatchmakingStore;
const prefix = uniquePrefix();

beforeAll(async () => {
  a = await createRedisConnection({ mode: "standalone", url: inject("redisUrl") });
  b = await createRedisConnection({ mode: "standalone", url: inject("redisUrl") });
  storeA = makeStore(a, new TestClock(), { prefix });
  storeB = makeStore(b, new TestClock(), { prefix });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe("rateLimit", () => {
  it("allows exactly the limit among concurrent calls from two instances, and refuses the rest without counting them", async () => {
    const subject = "player:burst-1";
    const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? storeA : storeB).rateLimit(subject, 10, 60_000));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.filter((r) => !r.allowed).every((r) => r.remaining === 0 && r.resetMs > 0 && r.resetMs <= 60_000)).toBe(true);
    expect([...results.filter((r) => r.allowed).map((r) => r.remaining)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const key = rateLimitKey(prefix, subject);
    expect(await a.command(key, ["GET", key])).toBe("10");
    // Another subject has its own counter.
    expect((await storeB.rateLimit("address:203.0.113.9", 10, 60_000)).remaining).toBe(9);
  });

  it("opens a new window when the old one ends", async () => {
    const subject = "address:2001:db8::1";
    expect((await storeA.rateLimit(subject, 1, 150)).allowed).toBe(true);
    const refused = await storeA.rateLimit(subject, 1, 150);
    expect(refused.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, refused.resetMs + 30));
    expect(await storeA.rateLimit(subject, 1, 150)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("refuses malformed input before writing anything", async () => {
    for (const subject of ["player:{x}", "player:", "admin:x", "address:a b", "constructor", `player:${"x".repeat(65)}`]) {
      await expect(storeA.rateLimit(subject, 1, 1000), subject).rejects.toMatchObject({ name: "StoreInputError", error: "invalid_subject" });
    }
    await expect(storeA.rateLimit("player:ok", 0, 1000)).rejects.toMatchObject({ error: "invalid_limit" });
    await expect(storeA.rateLimit("player:ok", 1, 1.5)).rejects.toMatchObject({ error: "invalid_windowMs" });
    // The script itself checks its arguments too (a caller that bypasses the store).
    const script = loadScripts().rateLimit;
    const key = rateLimitKey(prefix, "player:direct");
    for (const args of [
      ["x", "1000"],
      ["1", "-5"],
      ["1", "1e3"],
    ]) {
      await expect(a.runScript(key, script.sha, script.body, [key], args), args.join(",")).rejects.toThrow(/BADINPUT rateLimit/);
    }
    await expect(a.runScript("other", script.sha, script.body, ["other"], ["1", "1000"])).rejects.toThrow(/BADINPUT rateLimit KEYS\[1\]/);
    expect(await a.command(key, ["EXISTS", key])).toBe(0);
  });
});
