/**
 * The local Durable extension, end to end: a sample app registered with the real durable-functions
 * library, driven by DurableEngine over a real Redis, and operated through the REAL DurableClient and
 * the extension's HTTP routes served by a local HTTP server.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { core, gate, startWebhookServer, waitFor, type WebhookServer } from "./support/harness";
import { DurableEngine } from "../../../local-runtime/durable";
import { serveInProcess } from "../../../local-runtime/durable/inProcessTransport";
import type { DurableClient } from "durable-functions";
import { createClient } from "redis";
// Registrations must happen after the functions-core shim is installed. The harness installs it as it loads,
// and imports are evaluated in order, so these two load after it.
import * as df from "durable-functions";
import { trigger } from "@azure/functions";

// ---------------------------------------------------------------------------------------------------
// The sample app (function names are unique to this file: registrations are global per process).

let blockedStarted = gate();
let blockedRelease = gate();
let changingVariant: "A" | "B" = "A";

df.app.activity("dtSayHello", { handler: (name: unknown) => `Hello ${String(name)}` });
df.app.activity("dtEcho", { handler: (input: unknown) => ({ echoed: input }) });
df.app.activity("dtBoom", {
  handler: () => {
    throw new Error("boom");
  },
});
let blockedRuns = 0;
df.app.activity("dtBlocked", {
  handler: async (input: unknown) => {
    blockedRuns++;
    blockedStarted.open();
    await blockedRelease.promise;
    return input;
  },
});

df.app.orchestration("dtHello", function* (ctx) {
  const name = ctx.df.getInput() as string;
  const a: string = yield ctx.df.callActivity("dtSayHello", name);
  const b: string = yield ctx.df.callActivity("dtSayHello", `${name}!`);
  const c: unknown = yield ctx.df.callActivity("dtEcho", { n: 1, list: ["x"] });
  ctx.df.setCustomStatus({ step: "done" });
  return [a, b, c];
});

df.app.orchestration("dtFanOut", function* (ctx) {
  const results: string[] = yield ctx.df.Task.all([ctx.df.callActivity("dtSayHello", "a"), ctx.df.callActivity("dtSayHello", "b")]);
  return results;
});

df.app.orchestration("dtTimer", function* (ctx) {
  const { ms } = ctx.df.getInput() as { ms: number };
  yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + ms));
  return "timer fired";
});

df.app.orchestration("dtWait", function* (ctx) {
  const data: unknown = yield ctx.df.waitForExternalEvent("Approve");
  return { approved: data };
});

/** Timer vs event; when the event wins the timer is cancelled and the instance keeps running. */
df.app.orchestration("dtRace", function* (ctx) {
  const { ms } = ctx.df.getInput() as { ms: number };
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + ms));
  const go = ctx.df.waitForExternalEvent("Go");
  const winner: unknown = yield ctx.df.Task.any([timer, go]);
  if (winner === timer) return { winner: "timer" };
  timer.cancel();
  const finish: unknown = yield ctx.df.waitForExternalEvent("Finish");
  return { winner: "event", go: go.result, finish };
});

/** The matchmaker's shape: one deadline timer re-yielded in a loop that ignores events for other tickets. */
df.app.orchestration("dtFilter", function* (ctx) {
  const { ticketId, ms } = ctx.df.getInput() as { ticketId: string; ms: number };
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + ms));
  for (;;) {
    const ready = ctx.df.waitForExternalEvent("ServerReady");
    const winner: unknown = yield ctx.df.Task.any([timer, ready]);
    if (winner === timer) return { status: "timedOut" };
    const data = ready.result as { ticketId: string; server: string };
    if (data.ticketId === ticketId) {
      timer.cancel();
      return { status: "matched", server: data.server };
    }
  }
});

/** Waits on an activity while an event arrives early; the event must be kept until it is awaited. */
df.app.orchestration("dtBuffered", function* (ctx) {
  const first: unknown = yield ctx.df.callActivity("dtBlocked", "work");
  const late: unknown = yield ctx.df.waitForExternalEvent("Late");
  return { first, late };
});

df.app.orchestration("dtCatch", function* (ctx) {
  try {
    yield ctx.df.callActivity("dtBoom");
    return "no error";
  } catch (err) {
    return { caught: (err as Error).message };
  }
});

df.app.orchestration("dtThrow", function* (ctx) {
  yield ctx.df.callActivity("dtBoom");
  return "unreachable";
});

df.app.orchestration("dtChanging", function* (ctx) {
  yield ctx.df.callActivity(changingVariant === "A" ? "dtSayHello" : "dtEcho", "x");
  yield ctx.df.waitForExternalEvent("Next");
  return "done";
});

df.app.orchestration("dtCollect", function* (ctx) {
  const n = ctx.df.getInput() as number;
  const items: unknown[] = [];
  while (items.length < n) items.push(yield ctx.df.waitForExternalEvent("Item"));
  return items;
});

df.app.orchestration("dtSub", function* (ctx) {
  yield ctx.df.callSubOrchestrator("dtHello", "nested");
  return "unreachable";
});

/** Fails the first `failures` calls for each key, then answers. */
const flakyCalls = new Map<string, number>();
df.app.activity("dtFlaky", {
  handler: (input: unknown) => {
    const { key, failures } = input as { key: string; failures: number };
    const calls = (flakyCalls.get(key) ?? 0) + 1;
    flakyCalls.set(key, calls);
    if (calls <= failures) throw new Error(`flaky failure ${calls}`);
    return { key, calls };
  },
});

df.app.orchestration("dtRetry", function* (ctx) {
  const input = ctx.df.getInput() as { key: string; failures: number; attempts: number };
  const retry = new df.RetryOptions(50, input.attempts);
  retry.backoffCoefficient = 2;
  try {
    const first: unknown = yield ctx.df.callActivityWithRetry("dtFlaky", retry, input);
    const after: unknown = yield ctx.df.callActivity("dtSayHello", "after");
    return { first, after };
  } catch (err) {
    return { caught: (err as Error).message };
  }
});

let capturedClient: DurableClient | undefined;
df.app.client.generic("dtGetClient", {
  trigger: trigger.generic({ type: "dtestGetClientTrigger" }),
  handler: (_input, client) => {
    capturedClient = client;
  },
});

/** A DurableClient built by durable-functions itself from the binding data the engine provides. */
async function clientFor(engine: DurableEngine): Promise<DurableClient> {
  const reg = core.get("dtGetClient");
  const bindingName = Object.entries(reg.metadata.bindings).find(([, b]) => b.type === "durableClient")?.[0] as string;
  capturedClient = undefined;
  await core.invoke("dtGetClient", { inputData: [{ name: reg.trigger.name, data: { string: "go" } }, engine.clientInputData(bindingName)] });
  if (!capturedClient) throw new Error("the client function did not run");
  return capturedClient;
}

// ---------------------------------------------------------------------------------------------------

const redisUrl = inject("redisUrl");
const prefix = `t-${randomUUID().slice(0, 8)}`;
const taskHub = "TestHub";
let server: WebhookServer;
let engine: DurableEngine;
let client: DurableClient;
let redis: ReturnType<typeof createClient>;

function newEngine(extra: Partial<ConstructorParameters<typeof DurableEngine>[0]> = {}): DurableEngine {
  return new DurableEngine({ core, redisUrl, prefix, taskHub, baseUrl: server.baseUrl, ...extra });
}

const uid = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

async function statusOf(id: string) {
  return engine.getStatus(id);
}

async function waitForStatus(id: string, status: string) {
  return waitFor(`${id} to be ${status}`, async () => {
    const s = await statusOf(id);
    return s?.runtimeStatus === status ? s : undefined;
  });
}

async function historyTypes(id: string): Promise<number[]> {
  return (await engine.getHistory(id)).map((e) => e.EventType);
}

const count = (xs: number[], t: number) => xs.filter((x) => x === t).length;

function webhook(path: string): string {
  return `${server.baseUrl}/runtime/webhooks/durabletask/${path}`;
}

beforeAll(async () => {
  server = await startWebhookServer();
  engine = newEngine();
  await engine.start();
  server.engine = engine;
  client = await clientFor(engine);
  redis = createClient({ url: redisUrl });
  await redis.connect();
});

afterAll(async () => {
  await engine?.stop();
  await server?.close();
  await redis?.close();
});

describe("orchestrations through the real durable-functions library", () => {
  it("starts an orchestration that calls activities, with inputs and outputs round-tripped as JSON", async () => {
    const id = uid("hello");
    expect(await client.startNew("dtHello", { instanceId: id, input: "Ada" })).toBe(id);
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual(["Hello Ada", "Hello Ada!", { echoed: { n: 1, list: ["x"] } }]);

    const status = await client.getStatus(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.input).toBe("Ada");
    expect(status.customStatus).toEqual({ step: "done" });

    // History in the host's shape: three activities scheduled with sequential ids and completed.
    const history = await engine.getHistory(id);
    const scheduled = history.filter((e) => e.EventType === 4);
    expect(scheduled.map((e) => [e.EventId, e.Name])).toEqual([
      [0, "dtSayHello"],
      [1, "dtSayHello"],
      [2, "dtEcho"],
    ]);
    expect(history.filter((e) => e.EventType === 5).map((e) => e.TaskScheduledId)).toEqual([0, 1, 2]);
    expect(history[history.length - 2]).toMatchObject({ EventType: 1, OrchestrationStatus: "Completed" });
    expect(engine.metrics().activityInvocations).toBeGreaterThanOrEqual(3);
  });

  it("runs Task.all fan-out", async () => {
    const id = uid("fan");
    await client.startNew("dtFanOut", { instanceId: id });
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual(["Hello a", "Hello b"]);
  });

  it("fires a durable timer", async () => {
    const id = uid("timer");
    await client.startNew("dtTimer", { instanceId: id, input: { ms: 300 } });
    await waitForStatus(id, "Completed");
    const history = await engine.getHistory(id);
    const created = history.find((e) => e.EventType === 10);
    const fired = history.find((e) => e.EventType === 11);
    expect(created).toBeDefined();
    expect(fired).toMatchObject({ TimerId: created?.EventId });
    // It fired no earlier than its due time.
    expect(Date.parse(fired?.Timestamp as string)).toBeGreaterThanOrEqual(Date.parse(created?.FireAt as string));
    expect((await client.getStatus(id)).output).toBe("timer fired");
  });

  it("delivers an external event, costing exactly two episodes (start, event)", async () => {
    const id = uid("wait");
    await client.startNew("dtWait", { instanceId: id });
    await waitForStatus(id, "Running");
    await client.raiseEvent(id, "Approve", { by: "tester" });
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ approved: { by: "tester" } });
    expect(count(await historyTypes(id), 12)).toBe(2); // OrchestratorStarted per episode
  });

  it("WhenAny timer vs event: the event wins and the cancelled timer never fires", async () => {
    const id = uid("race");
    await client.startNew("dtRace", { instanceId: id, input: { ms: 600 } });
    await waitForStatus(id, "Running");
    const fireAt = Date.parse((await engine.getHistory(id)).find((e) => e.EventType === 10)?.FireAt as string);
    await client.raiseEvent(id, "Go", "first");
    // The episode that handled Go removed the timer from the schedule.
    await waitFor("Go to be processed", async () => count(await historyTypes(id), 15) === 1 && count(await historyTypes(id), 13) === 2);
    const timers = await redis.zRange(`${prefix}:durable:${taskHub}:timers`, 0, -1);
    expect(timers.filter((m) => m.includes(id))).toEqual([]);
    // Even after its due time, nothing fires: the instance still waits for Finish, with no TimerFired.
    await waitFor("the cancelled timer's due time", () => Date.now() > fireAt + 300);
    expect((await statusOf(id))?.runtimeStatus).toBe("Running");
    await client.raiseEvent(id, "Finish", 42);
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ winner: "event", go: "first", finish: 42 });
    expect(count(await historyTypes(id), 11)).toBe(0);
  });

  it("WhenAny timer vs event: the timer wins when no event comes", async () => {
    const id = uid("race-t");
    await client.startNew("dtRace", { instanceId: id, input: { ms: 200 } });
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ winner: "timer" });
  });

  it("ignores events for other tickets while re-yielding the same timer (one timer, one id sequence)", async () => {
    const id = uid("filter");
    await client.startNew("dtFilter", { instanceId: id, input: { ticketId: "t-1", ms: 60_000 } });
    await waitForStatus(id, "Running");
    await client.raiseEvent(id, "ServerReady", { ticketId: "someone-else", server: "wrong:1" });
    await waitFor("the foreign event to be processed", async () => count(await historyTypes(id), 12) === 2);
    expect((await statusOf(id))?.runtimeStatus).toBe("Running");
    await client.raiseEvent(id, "ServerReady", { ticketId: "t-1", server: "10.0.0.1:7777" });
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ status: "matched", server: "10.0.0.1:7777" });
    const types = await historyTypes(id);
    expect(count(types, 10)).toBe(1); // the re-yielded timer was not scheduled twice
    expect(count(types, 12)).toBe(3);
  });

  it("keeps an event raised before the orchestrator waits for it (buffered in the history)", async () => {
    blockedStarted = gate();
    blockedRelease = gate();
    const id = uid("buffered");
    await client.startNew("dtBuffered", { instanceId: id });
    await blockedStarted.promise; // the orchestrator now waits on the activity, not on "Late"
    await client.raiseEvent(id, "Late", { early: true });
    await waitFor("the early event to be recorded", async () => count(await historyTypes(id), 15) === 1);
    expect((await statusOf(id))?.runtimeStatus).toBe("Running");
    blockedRelease.open();
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ first: "work", late: { early: true } });
  });

  it("turns an activity failure into a catchable error, and an uncaught one into a Failed instance", async () => {
    const caught = uid("catch");
    await client.startNew("dtCatch", { instanceId: caught });
    const ok = await waitForStatus(caught, "Completed");
    expect((JSON.parse(ok.output as string) as { caught: string }).caught).toContain("boom");

    const thrown = uid("throw");
    await client.startNew("dtThrow", { instanceId: thrown });
    const failed = await waitForStatus(thrown, "Failed");
    expect(JSON.parse(failed.output as string)).toMatch(/^Orchestrator function 'dtThrow' failed: .*boom/s);
  });

  it("callActivityWithRetry retries a failing activity after firstRetryInterval × backoffCoefficient^n, then goes on", async () => {
    const id = uid("retry");
    await client.startNew("dtRetry", { instanceId: id, input: { key: id, failures: 2, attempts: 3 } });
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ first: { key: id, calls: 3 }, after: "Hello after" });
    const history = await engine.getHistory(id);
    // The extension's shape: attempt #0, timer #1, attempt #2, timer #3, attempt #4, then the next call #5.
    const scheduling = history.filter((e) => e.EventType === 4 || e.EventType === 10).map((e) => [e.EventType, e.EventId, e.Name]);
    expect(scheduling).toEqual([
      [4, 0, "dtFlaky"],
      [10, 1, undefined],
      [4, 2, "dtFlaky"],
      [10, 3, undefined],
      [4, 4, "dtFlaky"],
      [4, 5, "dtSayHello"],
    ]);
    const delays = history.filter((e) => e.EventType === 10).map((e) => Date.parse(e.FireAt as string) - Date.parse(e.Timestamp));
    expect(delays).toEqual([50, 100]);
    expect(count(await historyTypes(id), 6)).toBe(2);
    expect(flakyCalls.get(id)).toBe(3);
  });

  it("callActivityWithRetry gives up after maxNumberOfAttempts with the last failure as a catchable error", async () => {
    const id = uid("retry-out");
    await client.startNew("dtRetry", { instanceId: id, input: { key: id, failures: 5, attempts: 2 } });
    const done = await waitForStatus(id, "Completed");
    expect((JSON.parse(done.output as string) as { caught: string }).caught).toContain("flaky failure 2");
    const types = await historyTypes(id);
    // A timer follows the last failure too: the library decides after it fires that the attempts are used up.
    expect([count(types, 4), count(types, 6), count(types, 10), count(types, 11)]).toEqual([2, 2, 2, 2]);
    expect(flakyCalls.get(id)).toBe(2);
  });

  it("rejects unsupported actions with a clear failure", async () => {
    const id = uid("sub");
    await client.startNew("dtSub", { instanceId: id });
    const failed = await waitForStatus(id, "Failed");
    expect(JSON.parse(failed.output as string)).toMatch(/CallSubOrchestrator.*not support/);
  });

  it("detects a non-deterministic orchestrator on replay and fails the instance", async () => {
    changingVariant = "A";
    const id = uid("changing");
    await client.startNew("dtChanging", { instanceId: id });
    await waitFor("the first activity to complete", async () => count(await historyTypes(id), 5) === 1);
    await waitForStatus(id, "Running");
    changingVariant = "B"; // the code now calls a different activity at the same position
    try {
      await client.raiseEvent(id, "Next", "go");
      const failed = await waitForStatus(id, "Failed");
      const message = JSON.parse(failed.output as string) as string;
      expect(message).toContain("Non-deterministic orchestrator 'dtChanging'");
      expect(message).toContain("CallActivity 'dtEcho' as task #0");
      expect(message).toContain("TaskScheduled 'dtSayHello'");
      expect((await engine.getHistory(id)).at(-2)).toMatchObject({ EventType: 1, OrchestrationStatus: "Failed" });
    } finally {
      changingVariant = "A";
    }
  });
});

describe("concurrency", () => {
  it("serializes episodes of one instance under concurrent events, and runs many instances at once", async () => {
    const one = uid("collect");
    await client.startNew("dtCollect", { instanceId: one, input: 20 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.raiseEvent(one, "Item", i)));
    const done = await waitForStatus(one, "Completed");
    expect((JSON.parse(done.output as string) as number[]).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // Episodes never interleave: the history is a strict sequence of OrchestratorStarted ... OrchestratorCompleted.
    const markers = (await historyTypes(one)).filter((t) => t === 12 || t === 13);
    expect(markers.join(",")).toBe(Array.from({ length: markers.length / 2 }, () => "12,13").join(","));

    const ids = Array.from({ length: 150 }, () => uid("many"));
    await Promise.all(ids.map((id) => client.startNew("dtWait", { instanceId: id, input: id })));
    await waitFor("all instances to run", async () => (await Promise.all(ids.map((id) => statusOf(id)))).every((s) => s?.runtimeStatus === "Running"));
    await Promise.all(ids.map((id) => client.raiseEvent(id, "Approve", id)));
    await waitFor("all instances to complete", async () => (await Promise.all(ids.map((id) => statusOf(id)))).every((s) => s?.runtimeStatus === "Completed"));
    for (const id of ids) {
      expect(JSON.parse((await statusOf(id))?.output as string)).toEqual({ approved: id });
      expect(count(await historyTypes(id), 12)).toBe(2); // start + event: two episodes each
    }
  });
});

describe("instance management through the DurableClient", () => {
  it("refuses to start an id that is running, and restarts a finished one as a new execution", async () => {
    const id = uid("dup");
    await client.startNew("dtWait", { instanceId: id });
    // As the extension refuses it (OverridableExistingInstanceStates = NonRunningStates): 500 with the exception.
    await expect(client.startNew("dtWait", { instanceId: id })).rejects.toThrow(
      /unexpected status code: 500\. Details: .*"ExceptionMessage":"An Orchestration instance with the status (Running|Pending) already exists\.","ExceptionType":"DurableTask\.Core\.Exceptions\.OrchestrationAlreadyExistsException"/,
    );
    await client.raiseEvent(id, "Approve", 1);
    await waitForStatus(id, "Completed");
    await client.startNew("dtWait", { instanceId: id, input: "second" });
    const again = await waitForStatus(id, "Running");
    expect(again.output).toBeUndefined();
    expect(JSON.parse(again.input as string)).toBe("second");
    expect(count(await historyTypes(id), 0)).toBe(1); // a fresh history
    await client.raiseEvent(id, "Approve", 2);
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ approved: 2 });
  });

  it("raiseEvent: unknown instance is an error (404), a finished one is accepted and ignored (410)", async () => {
    await expect(client.raiseEvent(uid("nobody"), "Approve", 1)).rejects.toThrow(/No instance with ID/);
    const id = uid("gone");
    await client.startNew("dtWait", { instanceId: id });
    await client.raiseEvent(id, "Approve", "yes");
    await waitForStatus(id, "Completed");
    await expect(client.raiseEvent(id, "Approve", "again")).resolves.toBeUndefined();
  });

  it("terminates a running instance", async () => {
    const id = uid("term");
    await client.startNew("dtRace", { instanceId: id, input: { ms: 60_000 } });
    await waitForStatus(id, "Running");
    await client.terminate(id, "no longer needed");
    const s = await waitForStatus(id, "Terminated");
    expect(JSON.parse(s.output as string)).toBe("no longer needed");
    expect((await client.getStatus(id)).runtimeStatus).toBe("Terminated");
    // Its timer is gone from the schedule.
    const timers = await redis.zRange(`${prefix}:durable:${taskHub}:timers`, 0, -1);
    expect(timers.filter((m) => m.includes(id))).toEqual([]);
    await expect(client.terminate(uid("nobody"), "x")).rejects.toThrow(/No instance with ID/);
  });

  it("purges a finished instance, refuses a running one, and lists instances by status", async () => {
    const running = uid("list-run");
    await client.startNew("dtWait", { instanceId: running });
    await waitForStatus(running, "Running");
    const finished = uid("purge");
    await client.startNew("dtFanOut", { instanceId: finished });
    await waitForStatus(finished, "Completed");

    const runningList = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    expect(runningList.map((s) => s.instanceId)).toContain(running);
    expect(runningList.map((s) => s.instanceId)).not.toContain(finished);
    expect(runningList.every((s) => s.runtimeStatus === "Running")).toBe(true);
    const all = await client.getStatusAll();
    expect(all.map((s) => s.instanceId)).toEqual(expect.arrayContaining([running, finished]));

    const notYet = await fetch(webhook(`instances/${running}`), { method: "DELETE" });
    expect(notYet.status).toBe(412);

    expect(await client.purgeInstanceHistory(finished)).toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus(finished)).rejects.toThrow(/404/);
    expect((await client.purgeInstanceHistory(finished)).instancesDeleted).toBe(0);
    expect(await engine.getHistory(finished)).toEqual([]);
    await client.terminate(running, "cleanup");
  });
});

describe("purging history by time (purgeInstanceHistoryBy)", () => {
  it("deletes the finished instances created in the window with the given statuses, and nothing else", async () => {
    const before = uid("purge-before");
    await client.startNew("dtFanOut", { instanceId: before });
    await waitForStatus(before, "Completed");
    await new Promise((r) => setTimeout(r, 20));
    const from = new Date();
    const inWindow = [uid("purge-a"), uid("purge-b")];
    for (const id of inWindow) await client.startNew("dtFanOut", { instanceId: id });
    for (const id of inWindow) await waitForStatus(id, "Completed");
    const failed = uid("purge-failed");
    await client.startNew("dtThrow", { instanceId: failed });
    await waitForStatus(failed, "Failed");
    const running = uid("purge-running");
    await client.startNew("dtWait", { instanceId: running });
    await waitForStatus(running, "Running");
    const to = new Date();

    const completedOnly = { createdTimeFrom: from, createdTimeTo: to, runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] };
    expect(await client.purgeInstanceHistoryBy(completedOnly)).toEqual({ instancesDeleted: 2 });
    for (const id of inWindow) await expect(client.getStatus(id)).rejects.toThrow(/404/);
    expect((await engine.getStatus(before))?.runtimeStatus).toBe("Completed"); // created before the window
    expect((await engine.getStatus(failed))?.runtimeStatus).toBe("Failed"); // another status
    // Nothing left to match: the extension answers 404, which the client reports as zero deleted.
    expect((await client.purgeInstanceHistoryBy(completedOnly)).instancesDeleted).toBe(0);

    // Without a status filter every finished instance in the window goes; a running one is never purged.
    expect(await client.purgeInstanceHistoryBy({ createdTimeFrom: from, createdTimeTo: to })).toEqual({ instancesDeleted: 1 });
    expect(await engine.getStatus(failed)).toBeUndefined();
    expect((await engine.getStatus(running))?.runtimeStatus).toBe("Running");
    expect(await engine.getHistory(failed)).toEqual([]);
    await client.terminate(running, "cleanup");
  });
});

describe("the extension's HTTP routes", () => {
  it("status endpoint: 404 unknown, 202 with Location and Retry-After while running, 200 when done", async () => {
    const unknown = await fetch(webhook(`instances/${uid("nobody")}`));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("");

    const id = uid("status");
    const start = await fetch(webhook(`orchestrators/dtWait/${id}`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ player: "p1" }),
    });
    expect(start.status).toBe(202);
    type Links = Record<
      "id" | "purgeHistoryDeleteUri" | "restartPostUri" | "resumePostUri" | "sendEventPostUri" | "statusQueryGetUri" | "suspendPostUri" | "terminatePostUri",
      string
    >;
    const links = (await start.json()) as Links;
    expect(links.id).toBe(id);
    expect(start.headers.get("location")).toBe(links.statusQueryGetUri);
    expect(start.headers.get("retry-after")).toBe("10");
    expect(Object.keys(links).sort()).toEqual(
      ["id", "purgeHistoryDeleteUri", "restartPostUri", "resumePostUri", "sendEventPostUri", "statusQueryGetUri", "suspendPostUri", "terminatePostUri"].sort(),
    );
    expect(links.statusQueryGetUri).toBe(webhook(`instances/${id}?taskHub=${taskHub}&connection=Storage`));
    expect(links.sendEventPostUri).toBe(webhook(`instances/${id}/raiseEvent/{eventName}?taskHub=${taskHub}&connection=Storage`));

    await waitForStatus(id, "Running");
    const statusUrl = links.statusQueryGetUri;
    const running = await fetch(statusUrl);
    expect(running.status).toBe(202);
    expect(running.headers.get("location")).toBe(statusUrl);
    expect(running.headers.get("retry-after")).toBe("5");
    expect(running.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await running.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime", "lastUpdatedTime"]);
    expect(body).toMatchObject({ name: "dtWait", instanceId: id, runtimeStatus: "Running", input: { player: "p1" }, customStatus: null, output: null });
    expect(body.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.lastUpdatedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const raised = await fetch(links.sendEventPostUri.replace("{eventName}", "Approve"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify("ok"),
    });
    expect(raised.status).toBe(202);
    await waitForStatus(id, "Completed");
    const completed = await fetch(statusUrl);
    expect(completed.status).toBe(200);
    expect(completed.headers.get("location")).toBeNull();
    expect(completed.headers.get("retry-after")).toBeNull();
    expect(await completed.json()).toMatchObject({ runtimeStatus: "Completed", output: { approved: "ok" }, input: { player: "p1" } });

    // raiseEvent on a finished instance: 410; on an unknown one: 404.
    const gone = await fetch(webhook(`instances/${id}/raiseEvent/Approve`), { method: "POST", headers: { "content-type": "application/json" }, body: "1" });
    expect(gone.status).toBe(410);
    const missing = await fetch(webhook(`instances/${uid("nobody")}/raiseEvent/Approve`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "1",
    });
    expect(missing.status).toBe(404);
    // Starting the same id again while... it is finished: allowed. Unknown orchestrator: 400. Bad JSON: 400.
    expect((await fetch(webhook("orchestrators/noSuchOrchestrator"), { method: "POST" })).status).toBe(400);
    expect((await fetch(webhook("orchestrators/dtWait"), { method: "POST", body: "{not json" })).status).toBe(400);
  });

  it("status endpoint: Failed is 200, or 500 with returnInternalServerErrorOnFailure=true; terminate 410 when finished", async () => {
    const id = uid("fail");
    await client.startNew("dtThrow", { instanceId: id });
    await waitForStatus(id, "Failed");
    const plain = await fetch(webhook(`instances/${id}`));
    expect(plain.status).toBe(200);
    expect(await plain.json()).toMatchObject({ runtimeStatus: "Failed", output: expect.stringContaining("boom") });
    const strict = await fetch(webhook(`instances/${id}?returnInternalServerErrorOnFailure=true`));
    expect(strict.status).toBe(500);
    expect(((await strict.json()) as { runtimeStatus: string }).runtimeStatus).toBe("Failed");
    expect((await fetch(webhook(`instances/${id}/terminate?reason=late`), { method: "POST" })).status).toBe(410);
    expect((await fetch(webhook(`instances/${uid("nobody")}/terminate?reason=x`), { method: "POST" })).status).toBe(404);
    const withHistory = (await (await fetch(webhook(`instances/${id}?showHistory=true`))).json()) as { historyEvents: { EventType: string }[] };
    expect(withHistory.historyEvents.map((e) => e.EventType)).toEqual(["ExecutionStarted", "TaskScheduled", "TaskFailed", "ExecutionCompleted"]);
    // Not handled here: other paths are left to the host.
    expect(await engine.handleHttp({ method: "GET", url: "/api/tickets", headers: {} })).toBeUndefined();
  });

  it("client binding data points the library at this engine", () => {
    const data = engine.clientInputData("client");
    expect(data.name).toBe("client");
    const payload = JSON.parse((data.data as { string: string }).string) as Record<string, unknown>;
    expect(payload).toMatchObject({
      taskHubName: taskHub,
      baseUrl: webhook("").replace(/\/$/, ""),
      rpcBaseUrl: webhook(""),
      managementUrls: { id: "INSTANCEID" },
    });
  });

  it("with a system key, public routes need it and the durable client still works without it", async () => {
    const keyed = newEngine({ systemKey: "s3cret" });
    await keyed.start();
    const previous = server.engine;
    server.engine = keyed;
    try {
      const id = uid("keyed");
      const keyedClient = await clientFor(keyed);
      await keyedClient.startNew("dtWait", { instanceId: id });
      expect((await fetch(webhook(`instances/${id}`))).status).toBe(401);
      expect((await fetch(webhook(`instances/${id}?code=wrong`))).status).toBe(401);
      expect([200, 202]).toContain((await fetch(webhook(`instances/${id}?code=s3cret`))).status);
      expect([200, 202]).toContain((await fetch(webhook(`instances/${id}`), { headers: { "x-functions-key": "s3cret" } })).status);
      const links = keyedClient.createHttpManagementPayload(id);
      expect(links.statusQueryGetUri).toContain("code=s3cret");
      await keyedClient.terminate(id, "done");
      await waitFor("keyed instance terminated", async () => (await keyed.getStatus(id))?.runtimeStatus === "Terminated");
    } finally {
      server.engine = previous;
      await keyed.stop();
    }
  });
});

describe("restart", () => {
  it("a new engine on the same Redis resumes waiting instances: events and (overdue) timers", async () => {
    const waiting = uid("r-wait");
    const timed = uid("r-timer");
    await client.startNew("dtWait", { instanceId: waiting });
    await client.startNew("dtTimer", { instanceId: timed, input: { ms: 700 } });
    await waitForStatus(waiting, "Running");
    await waitForStatus(timed, "Running");
    const fireAt = Date.parse((await engine.getHistory(timed)).find((e) => e.EventType === 10)?.FireAt as string);

    await engine.stop();
    server.engine = undefined;
    // The timer falls due while no engine runs; the next engine must fire it at once.
    await waitFor("the timer to fall due", () => Date.now() > fireAt + 100);
    expect(await redis.hGet(`${prefix}:durable:${taskHub}:instance:${timed}`, "runtimeStatus")).toBe("Running");

    engine = newEngine();
    await engine.start();
    server.engine = engine;
    client = await clientFor(engine);

    const timerDone = await waitForStatus(timed, "Completed");
    expect(JSON.parse(timerDone.output as string)).toBe("timer fired");
    await client.raiseEvent(waiting, "Approve", "after restart");
    const eventDone = await waitForStatus(waiting, "Completed");
    expect(JSON.parse(eventDone.output as string)).toEqual({ approved: "after restart" });
    expect(engine.metrics().orchestratorEpisodes).toBeGreaterThanOrEqual(2);
  });

  it("an activity cut off by a stop runs again on the next engine (at least once)", async () => {
    blockedStarted = gate();
    blockedRelease = gate();
    blockedRuns = 0;
    const id = uid("r-act");
    await client.startNew("dtBuffered", { instanceId: id });
    await blockedStarted.promise;
    await engine.stop(100); // the activity is still running: its entry stays in Redis
    server.engine = undefined;

    engine = newEngine();
    await engine.start();
    server.engine = engine;
    client = await clientFor(engine);
    await waitFor("the activity to be dispatched again", () => blockedRuns === 2);
    blockedRelease.open();
    await waitFor("the activity result to be recorded", async () => count(await historyTypes(id), 5) === 1);
    await client.raiseEvent(id, "Late", "after restart");
    const done = await waitForStatus(id, "Completed");
    expect(JSON.parse(done.output as string)).toEqual({ first: "work", late: "after restart" });
  });
});

describe("the in-process transport (local-runtime/durable/inProcessTransport)", () => {
  it("serves the real DurableClient's calls from the engine with no socket, answering as over HTTP; counted by kind; undone it is HTTP again", async () => {
    // A base URL where nothing listens: every call that reaches it over HTTP fails (connection refused).
    const inProc = new DurableEngine({ core, redisUrl, prefix, taskHub: "InProcHub", baseUrl: "http://127.0.0.1:9" });
    await inProc.start();
    const undo = serveInProcess(inProc.webhookBase, inProc);
    try {
      const c = await clientFor(inProc);
      const id = uid("inproc");
      expect(await c.startNew("dtWait", { instanceId: id, input: "x" })).toBe(id);
      await waitFor("running", async () => ((await inProc.getStatus(id))?.runtimeStatus === "Running" ? true : undefined));
      await expect(c.startNew("dtWait", { instanceId: id })).rejects.toThrow(/status code: 500\. Details: .*OrchestrationAlreadyExistsException/);
      expect((await c.getStatus(id)).runtimeStatus).toBe("Running");
      await c.raiseEvent(id, "Approve", 7);
      await waitFor("completed", async () => ((await inProc.getStatus(id))?.runtimeStatus === "Completed" ? true : undefined));
      expect((await c.getStatus(id)).output).toEqual({ approved: 7 });
      await expect(c.getStatus(uid("unknown"))).rejects.toThrow(/404/);
      expect(inProc.metrics().callsByKind).toEqual({ start: 2, status: 3, raiseEvent: 1 });
      undo();
      await expect(c.getStatus(id)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      undo();
      await inProc.stop();
    }
  });
});
