/**
 * The local host against a small sample app: HTTP routing, auth levels, 404/405; Event Hub delivery with
 * the Azure checkpoint rule with and without a retry policy, resume after a crash, fault hooks; timers.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { startLocalRuntime, type LocalRuntime } from "../../../local-runtime/host/runtime";
import type { EventPublisherLike } from "../../../local-runtime/host/eventHubs/index";
import type { SampleControl } from "./fixtures/sampleApp";

const prefix = `t-${randomUUID().slice(0, 8)}`;
let rt: LocalRuntime;
let publisher: EventPublisherLike | undefined;
const ctl = (): SampleControl => (globalThis as unknown as { sampleControl: SampleControl }).sampleControl;

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  rt = await startLocalRuntime({
    appDir: join(__dirname, "fixtures"),
    app: {
      load: () => import("./fixtures/sampleApp.js"),
      setEventPublisher: (p) => {
        publisher = p;
      },
      redisKeyPrefix: (env) => env.REDIS_KEY_PREFIX ?? "sample",
    },
    port: 0,
    useLocalSettings: false,
    env: {
      REDIS_CONNECTION_STRING: inject("redisUrl"),
      REDIS_KEY_PREFIX: prefix,
      SAMPLE_HUB_A: "hub-a",
      SAMPLE_HUB_B: "hub-b",
      // Effectively never on its own: the test fires it, except in the overlap test which uses its own timer.
      SAMPLE_SCHEDULE: "0 0 0 1 1 *",
      LOCAL_FUNCTION_KEY: "fkey",
      LOCAL_MASTER_KEY: "mkey",
      LOCAL_CORS: "http://game.example",
    },
    log: () => undefined,
  });
});

afterAll(async () => {
  await rt?.stop();
});

describe("HTTP routing", () => {
  it("routes templates with optional params and query, under the api prefix", async () => {
    const a = await fetch(`${rt.baseUrl}/api/hello`);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ hello: "world", q: null });
    const b = await fetch(`${rt.baseUrl}/api/hello/bob?q=1`);
    expect(await b.json()).toEqual({ hello: "bob", q: "1" });
    const c = await fetch(`${rt.baseUrl}/api/items/7/release`, { method: "POST", body: JSON.stringify({ x: 1 }) });
    expect(c.status).toBe(202);
    expect(await c.json()).toEqual({ released: "7", body: { x: 1 } });
  });

  it("enforces function and admin auth levels with x-functions-key or code", async () => {
    expect((await fetch(`${rt.baseUrl}/api/items/12`)).status).toBe(401);
    expect((await fetch(`${rt.baseUrl}/api/items/12`, { headers: { "x-functions-key": "wrong" } })).status).toBe(401);
    const ok = await fetch(`${rt.baseUrl}/api/items/12`, { headers: { "x-functions-key": "fkey" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 12, method: "GET" });
    expect((await fetch(`${rt.baseUrl}/api/items/12?code=fkey`)).status).toBe(200);
    expect((await fetch(`${rt.baseUrl}/api/items/12?code=mkey`)).status).toBe(200);
    const del = await fetch(`${rt.baseUrl}/api/items/12?code=fkey`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(del.headers.get("x-deleted")).toBe("12");
    expect((await fetch(`${rt.baseUrl}/api/admin/ping?code=fkey`)).status).toBe(401);
    const admin = await fetch(`${rt.baseUrl}/api/admin/ping?code=mkey`);
    expect(admin.status).toBe(200);
    expect(await admin.text()).toBe("pong");
  });

  it("answers 404 for unknown routes and failed constraints, 405 with Allow for a wrong method, 500 for a throw", async () => {
    expect((await fetch(`${rt.baseUrl}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${rt.baseUrl}/hello`)).status).toBe(404);
    expect((await fetch(`${rt.baseUrl}/api/items/abc?code=fkey`)).status).toBe(404);
    const wrong = await fetch(`${rt.baseUrl}/api/items/12?code=fkey`, { method: "PUT" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toContain("GET");
    expect(wrong.headers.get("allow")).toContain("DELETE");
    expect((await fetch(`${rt.baseUrl}/api/boom`)).status).toBe(500);
    expect((await fetch(`${rt.baseUrl}/runtime/webhooks/durabletask/instances/x`)).status).toBe(404);
  });

  it("answers CORS preflights and adds CORS headers for allowed origins only", async () => {
    const pre = await fetch(`${rt.baseUrl}/api/hello`, {
      method: "OPTIONS",
      headers: { origin: "http://game.example", "access-control-request-method": "GET" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://game.example");
    const ok = await fetch(`${rt.baseUrl}/api/hello`, { headers: { origin: "http://game.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://game.example");
    const other = await fetch(`${rt.baseUrl}/api/hello`, { headers: { origin: "http://evil.example" } });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves its counters at /runtime/local/metrics", async () => {
    const r = await fetch(`${rt.baseUrl}/runtime/local/metrics`);
    expect(r.status).toBe(200);
    const m = (await r.json()) as { invocations: Record<string, number>; failures: Record<string, number>; durable: unknown };
    expect(m.invocations.hello).toBeGreaterThanOrEqual(2);
    expect(m.failures.boom).toBeGreaterThanOrEqual(1);
    expect(m.durable).toBeNull();
  });

  it("prints a banner that says it is a local runtime, with URLs, keys and functions", async () => {
    const { banner } = await import("../../../local-runtime/host/banner.js");
    const text = banner(rt);
    expect(text).toContain("LOCAL RUNTIME (development only; production runs on the Azure Functions host)");
    expect(text).toContain(`${rt.baseUrl}/api/items/{id:int}`);
    expect(text).toContain(`${rt.baseUrl}/runtime/webhooks/durabletask/instances/{instanceId}`);
    expect(text).toContain("x-functions-key: fkey");
    expect(text).toMatch(/ehRetry\s+eventHubTrigger\s+hub hub-b, cardinality many, retry fixedDelay x3/);
    expect(text).toMatch(/tick\s+timerTrigger\s+schedule 0 0 0 1 1 \*/);
    expect(text).toContain("player auth: PLAYER_AUTH=none (default): anyone can create a ticket for any playerId");
  });

  it("lists the routes it serves", () => {
    const urls = rt.httpRoutes.map((r) => r.url);
    expect(urls).toContain(`${rt.baseUrl}/api/items/{id:int}`);
    expect(rt.functions.find((f) => f.name === "ehRetry")?.detail).toContain("hub hub-b");
  });
});

describe("Event Hubs", () => {
  const batchesOf = (fn: string) => ctl().batches.filter((b) => b.function === fn);

  it("delivers a batch with the host's metadata arrays", async () => {
    const before = batchesOf("ehNoRetry").length;
    await publisher!.send(
      "hub-a",
      [1, 2, 3].map((n) => ({ body: { n }, partitionKey: "k1", properties: { p: String(n) } })),
    );
    await until(
      () =>
        batchesOf("ehNoRetry")
          .slice(before)
          .flatMap((b) => b.events).length === 3,
      "3 events",
    );
    const got = batchesOf("ehNoRetry").slice(before);
    expect(got.flatMap((b) => b.events)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const md = got[0]!.triggerMetadata!;
    const n = got[0]!.events.length;
    expect((md.enqueuedTimeUtcArray as string[]).length).toBe(n);
    expect((md.sequenceNumberArray as number[]).every((s) => Number.isInteger(s))).toBe(true);
    expect((md.partitionKeyArray as string[])[0]).toBe("k1");
    expect((md.propertiesArray as Record<string, string>[])[0]).toEqual({ p: "1" });
    expect((md.systemPropertiesArray as Record<string, unknown>[])[0]).toHaveProperty("sequenceNumber");
    expect(md.partitionContext).toMatchObject({ eventHubName: "hub-a", consumerGroup: "$Default" });
  });

  it("without a retry policy a thrown batch is checkpointed anyway (Azure rule)", async () => {
    const before = batchesOf("ehNoRetry").length;
    ctl().throwNext.ehNoRetry = 1;
    await publisher!.send("hub-a", [{ body: { lost: 1 }, partitionKey: "k2" }]);
    await until(() => ctl().throwNext.ehNoRetry === 0, "the throw");
    await publisher!.send("hub-a", [{ body: { after: 1 }, partitionKey: "k2" }]);
    await until(
      () =>
        batchesOf("ehNoRetry")
          .slice(before)
          .some((b) => b.events.some((e) => (e as { after?: number }).after)),
      "next event",
    );
    await rt.drainEvents();
    const events = batchesOf("ehNoRetry")
      .slice(before)
      .flatMap((b) => b.events);
    // The failed event was delivered once and never again.
    expect(events.filter((e) => (e as { lost?: number }).lost)).toHaveLength(1);
    expect(rt.eventHubs().dropped.get("ehNoRetry")).toBeGreaterThanOrEqual(1);
  });

  it("with a retry policy a thrown batch is retried with retryContext until it succeeds", async () => {
    const before = batchesOf("ehRetry").length;
    ctl().throwNext.ehRetry = 2;
    await publisher!.send("hub-b", [
      { body: { r: 1 }, partitionKey: "k" },
      { body: { r: 2 }, partitionKey: "k" },
    ]);
    await until(() => batchesOf("ehRetry").length - before >= 3, "3 attempts");
    await rt.drainEvents();
    const attempts = batchesOf("ehRetry").slice(before);
    expect(attempts).toHaveLength(3);
    expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2]);
    for (const a of attempts) expect(a.events).toEqual([{ r: 1 }, { r: 2 }]);
  });

  it("gives up after maxRetryCount retries and moves on", async () => {
    const before = batchesOf("ehRetry").length;
    ctl().throwNext.ehRetry = 10;
    await publisher!.send("hub-b", [{ body: { doomed: 1 }, partitionKey: "k" }]);
    await until(() => batchesOf("ehRetry").length - before >= 4, "4 attempts");
    await rt.drainEvents();
    expect(batchesOf("ehRetry").length - before).toBe(4); // first try + maxRetryCount 3
    ctl().throwNext.ehRetry = 0;
  });

  it("fault hooks: midBatch runs the handler on half the batch and fails; duplicateNextBatch redelivers", async () => {
    // Pause the consumer so the whole batch is there at once.
    let open!: () => void;
    ctl().gate = new Promise<void>((r) => (open = r));
    const before = batchesOf("ehNoRetry").length;
    await publisher!.send("hub-a", [{ body: { warm: 1 }, partitionKey: "m" }]);
    await until(() => batchesOf("ehNoRetry").length > before, "warm-up batch entered");
    rt.faults.throwOn("ehNoRetry", { mode: "midBatch" });
    await publisher!.send(
      "hub-a",
      [1, 2, 3, 4].map((i) => ({ body: { mid: i }, partitionKey: "m" })),
    );
    ctl().gate = undefined;
    open();
    await rt.drainEvents();
    const mids = batchesOf("ehNoRetry")
      .slice(before)
      .filter((b) => b.events.some((e) => (e as { mid?: number }).mid));
    expect(mids).toHaveLength(1);
    expect(mids[0]!.events).toEqual([{ mid: 1 }, { mid: 2 }]);
    expect(rt.faults.fired.get("ehNoRetry")).toBe(1);

    const b2 = batchesOf("ehNoRetry").length;
    rt.faults.duplicateNextBatch("ehNoRetry");
    await publisher!.send("hub-a", [{ body: { dup: 1 }, partitionKey: "d" }]);
    await rt.drainEvents();
    const dups = batchesOf("ehNoRetry").slice(b2);
    expect(dups).toHaveLength(2);
    expect(dups[0]!.events).toEqual(dups[1]!.events);
  });

  it("a crash redelivers the batch in flight after restart; a graceful restart does not", async () => {
    let open!: () => void;
    ctl().gate = new Promise<void>((r) => (open = r));
    const before = batchesOf("ehNoRetry").length;
    const entered = ctl().entered;
    await publisher!.send("hub-a", [{ body: { crash: 1 }, partitionKey: "c" }]);
    await until(() => ctl().entered > entered, "handler entered");
    const restarting = rt.restart({ abrupt: true });
    ctl().gate = undefined;
    open();
    await restarting;
    await until(() => batchesOf("ehNoRetry").slice(before).length >= 2, "redelivery after restart");
    await rt.drainEvents();
    const got = batchesOf("ehNoRetry").slice(before);
    expect(got).toHaveLength(2);
    expect(got[1]!.events).toEqual([{ crash: 1 }]);

    const b2 = batchesOf("ehNoRetry").length;
    await rt.restart();
    await publisher!.send("hub-a", [{ body: { fresh: 1 }, partitionKey: "c" }]);
    await until(() => batchesOf("ehNoRetry").length > b2, "fresh event");
    await rt.drainEvents();
    expect(
      batchesOf("ehNoRetry")
        .slice(b2)
        .flatMap((b) => b.events),
    ).toEqual([{ fresh: 1 }]);
    // Same URL after restart.
    expect((await fetch(`${rt.baseUrl}/api/hello`)).status).toBe(200);
  });
});

describe("timers", () => {
  it("invokes with the host's timer object", async () => {
    const before = ctl().timerCalls.length;
    await rt.timers().trigger("tick");
    const call = ctl().timerCalls[before]!;
    expect(call.timer.isPastDue).toBe(false);
    expect(call.timer.schedule).toEqual({ adjustForDST: true });
    expect(typeof call.timer.scheduleStatus.next).toBe("string");
    expect(typeof call.timer.scheduleStatus.last).toBe("string");
  });

  it("fires on its NCRONTAB schedule and never overlaps runs of the same timer", async () => {
    const { LocalTimers } = await import("../../../local-runtime/host/timers.js");
    const timers = new LocalTimers(rt.invoker);
    ctl().timerDelayMs = 1500;
    ctl().timerMaxConcurrent = 0;
    timers.add({ functionName: "tick", schedule: "* * * * * *" });
    timers.start();
    await until(() => (timers.skipped.get("tick") ?? 0) >= 1 && (timers.runs.get("tick") ?? 0) >= 1, "a run and a skipped tick", 10_000);
    await timers.stop();
    ctl().timerDelayMs = 0;
    expect(ctl().timerMaxConcurrent).toBe(1);
  });
});
