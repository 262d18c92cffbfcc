/**
 * No server script call runs over 10 ms at any pool size: a large pool (10,000 servers, 60 allocated to
 * 100-player sessions, half of them confirmed) dies at once, and the sweep retires it in bounded calls.
 * Measured by Redis itself: a private redis-server logs every command's run time (SLOWLOG with
 * slowlog-log-slower-than 0) during the measured phase; each EVALSHA entry is mapped to its script by SHA.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServerHandle } from "../../local-runtime/redisServer";
import { createRedisConnection, type RedisConnection } from "../../src/store";
import { loadScripts } from "../../src/store/scriptLoader";
import { routingKey } from "../../src/store/keys";
import { makeStore, TestClock, uniquePrefix } from "../support/storeHarness";

const REGION = "westeurope";
const SERVERS = 10_000;
const SESSIONS = 60;
const SESSION_SIZE = 100;
const LIMIT_US = 10_000;

let server: RedisServerHandle | undefined;
let redis: RedisConnection;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await createRedisConnection({ mode: "standalone", url: server.url });
}, 60_000);

afterAll(async () => {
  await redis?.close();
  await server?.stop();
});

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe("server scripts on a large pool", () => {
  it(`retire ${SERVERS} dead servers (${SESSIONS} x ${SESSION_SIZE}-player games) in calls of under 10 ms each`, async () => {
    const clock = new TestClock();
    const prefix = uniquePrefix();
    const store = makeStore(redis, clock, { prefix, modes: { big: SESSION_SIZE }, serverLeaseSeconds: 30, serverClaimSeconds: 60 });
    const ids = Array.from({ length: SERVERS }, (_, i) => i);
    await inParallel(ids, 32, async (i) => {
      const out = await store.registerServer({ serverId: `srv-${i}`, region: REGION, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7777` });
      if (out.outcome !== "registered") throw new Error(JSON.stringify(out));
    });
    for (let s = 0; s < SESSIONS; s++) {
      await store.enqueue(
        Array.from({ length: SESSION_SIZE }, (_, k) => ({
          ticketId: `t-${s}-${k}`,
          playerId: `p-${s}-${k}`,
          mode: "big",
          region: REGION,
          requestedAtMs: clock.ms,
        })),
      );
    }
    const assigned = [];
    while (assigned.length < SESSIONS) assigned.push(...(await store.assign(REGION, { maxSessions: 2 })).assigned);
    for (const a of assigned.slice(0, SESSIONS / 2)) expect((await store.ackServer({ serverId: a.serverId })).outcome).toBe("confirmed");

    const key = routingKey(prefix, REGION);
    const names = new Map(Object.values(loadScripts()).map((s) => [s.sha, s.name]));
    await redis.command(key, ["CONFIG", "SET", "slowlog-max-len", "1000000"]);
    await redis.command(key, ["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    await redis.command(key, ["SLOWLOG", "RESET"]);

    // The measured phase: heartbeats, an ack, a release on the full pool; then the whole pool dies.
    // (The last ids: none of them is allocated, so no heartbeat confirms a claim here.)
    await inParallel(ids.slice(-200), 16, (i) =>
      store.registerServer({ serverId: `srv-${i}`, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7777`, defaultRegion: REGION }),
    );
    await store.getServer(undefined, assigned[0]!.serverId);
    await store.releaseServer({ serverId: assigned[SESSIONS - 1]!.serverId });
    clock.advance(31_000);
    const started = Date.now();
    const swept = await store.expireServers(REGION);
    const sweepMs = Date.now() - started;
    expect(swept.expired).toHaveLength(SERVERS);
    expect(swept.requeuedSessions).toHaveLength(SESSIONS / 2 - 1); // the released one ended normally
    expect(swept.lostSessions).toHaveLength(SESSIONS / 2);
    await store.deregisterServer({ serverId: "srv-0" }); // notFound by now: cheap either way

    await redis.command(key, ["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    const log = await redis.command<[number, number, number, string[]][]>(key, ["SLOWLOG", "GET", "-1"]);
    const longest = new Map<string, { us: number; calls: number }>();
    const all: Record<string, number[]> = {};
    for (const [, , us, args] of log) {
      if (String(args[0]).toUpperCase() !== "EVALSHA" && String(args[0]).toUpperCase() !== "EVAL") continue;
      const name = names.get(String(args[1])) ?? "?";
      const m = longest.get(name) ?? { us: 0, calls: 0 };
      longest.set(name, { us: Math.max(m.us, Number(us)), calls: m.calls + 1 });
      (all[name] ??= []).push(Number(us));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const report = Object.fromEntries([...longest].sort().map(([n, m]) => [n, { ...m, medianUs: median(all[n] ?? []) }]));
    console.log(`longest script calls (µs) on a ${SERVERS}-server pool; whole sweep ${sweepMs} ms:`, JSON.stringify(report));
    for (const name of ["claimServer", "registerServer", "readServer", "releaseServer", "expireServers", "forgetServers"]) {
      expect(longest.get(name)?.calls ?? 0, `${name} was measured`).toBeGreaterThan(0);
    }
    for (const [name, m] of longest) expect(m.us, `${name}: longest call ${m.us} µs`).toBeLessThan(LIMIT_US);
    expect(longest.get("expireServers")!.calls).toBeGreaterThanOrEqual(SERVERS / 100);
  }, 240_000);
});
