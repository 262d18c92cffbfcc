/** The determinism check and task numbering of the local Durable runtime (pure, no Redis). */
import { describe, expect, it } from "vitest";
import { events, summarize, type HistoryEvent } from "../../../local-runtime/durable/history";
import { ActionType, inputToJsonText, topLevelYields, type RawAction } from "../../../local-runtime/durable/replay/actions";
import { planEpisode } from "../../../local-runtime/durable/replay/plan";
import { retryDelayMs } from "../../../local-runtime/durable/replay/retryPolicy";

const ts = "2026-01-01T00:00:00.000Z";
const at = (s: number) => new Date(Date.parse(ts) + s * 1000).toISOString();
const activity = (name: string, input?: unknown): RawAction => ({ actionType: ActionType.CallActivity, functionName: name, input });
const timer = (fireAt = "2026-01-01T00:01:00.000Z", isCanceled = false): RawAction => ({ actionType: ActionType.CreateTimer, fireAt, isCanceled });
const wait = (name: string): RawAction => ({ actionType: ActionType.WaitForExternalEvent, externalEventName: name, reason: "ExternalEvent" });
const all = (...compoundActions: RawAction[]): RawAction => ({ actionType: ActionType.WhenAll, compoundActions });
const any = (...compoundActions: RawAction[]): RawAction => ({ actionType: ActionType.WhenAny, compoundActions });
const withRetry = (name: string, retryOptions: RawAction["retryOptions"], input?: unknown): RawAction => ({
  actionType: ActionType.CallActivityWithRetry,
  functionName: name,
  retryOptions,
  input,
});

/** A history that starts the orchestration at `ts`, then the given events. */
function history(...evs: HistoryEvent[]): HistoryEvent[] {
  return [events.orchestratorStarted(ts), events.executionStarted(ts, "orch", undefined, "i", "e"), ...evs];
}

function plan(yields: RawAction[], h: HistoryEvent[]) {
  return planEpisode("orch", yields, h, summarize(h).scheduled);
}

describe("topLevelYields", () => {
  it("opens the outer arrays only: compound actions stay whole, in yield order", () => {
    const a = activity("a");
    const compound = any(timer(), all(wait("Go"), activity("b")));
    expect(topLevelYields([[a, compound]])).toEqual([a, compound]);
    expect(topLevelYields([[a], [compound]])).toEqual([a, compound]);
  });
});

describe("planEpisode: task numbering", () => {
  it("numbers activities and timers from 0, skipping event waits, and marks what is new", () => {
    const h = history(events.taskScheduled(ts, 0, "a", '"x"'));
    const r = plan([all(activity("a", '"x"'), wait("E"), timer(), activity("b", { n: 1 }))], h);
    expect(r).toEqual({
      ok: true,
      planned: [
        { kind: "activity", id: 0, name: "a", input: '"x"', isNew: false },
        { kind: "timer", id: 1, fireAt: "2026-01-01T00:01:00.000Z", isCanceled: false, isNew: true },
        { kind: "activity", id: 2, name: "b", input: '{"n":1}', isNew: true },
      ],
    });
  });

  it("counts a task yielded again (same action object) once", () => {
    const t = timer();
    const h = history(events.timerCreated(ts, 0, "2026-01-01T00:01:00.000Z"), events.orchestratorStarted(at(1)), events.eventRaised(at(1), "X", "1"));
    const r = plan([any(t, wait("X")), any(t, wait("Y"))], h);
    expect(r).toMatchObject({ ok: true, planned: [{ kind: "timer", id: 0, isNew: false }] });
  });

  it("a later yield is numbered only once the task before it is done", () => {
    const h = history(events.taskScheduled(ts, 0, "a", undefined));
    expect(plan([activity("a"), activity("b")], h)).toMatchObject({ ok: true, planned: [{ id: 0, name: "a" }] });
    const done = [...h, events.orchestratorStarted(at(1)), events.taskCompleted(at(1), 0, '"ok"')];
    expect(plan([activity("a"), activity("b")], done)).toMatchObject({
      ok: true,
      planned: [
        { id: 0, name: "a" },
        { id: 1, name: "b", isNew: true },
      ],
    });
  });

  it("reports a different activity name at a recorded position", () => {
    const r = plan([activity("b")], history(events.taskScheduled(ts, 0, "a", undefined)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe("nonDeterministic");
      expect(r.message).toContain("scheduled CallActivity 'b' as task #0");
      expect(r.message).toContain("TaskScheduled 'a'");
    }
  });

  it("reports a timer where the history has an activity", () => {
    const r = plan([timer()], history(events.taskScheduled(ts, 0, "a", undefined)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe("nonDeterministic");
  });

  it("reports code that now schedules fewer tasks than the history holds", () => {
    const r = plan([activity("a")], history(events.taskScheduled(ts, 0, "a", undefined), events.timerCreated(ts, 1, ts)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/scheduled 1 task\(s\), but the history recorded 2/);
  });

  it("rejects actions the local runtime does not implement, also inside a compound", () => {
    expect(plan([{ actionType: ActionType.ContinueAsNew }], history())).toMatchObject({ ok: false, kind: "unsupported" });
    expect(plan([all(activity("a"), { actionType: ActionType.CallSubOrchestrator, functionName: "s" })], history())).toMatchObject({
      ok: false,
      kind: "unsupported",
    });
  });

  it("keeps the recorded fire time of a replayed timer and reports cancellation", () => {
    const r = plan([timer("2030-01-01T00:00:00.000Z", true)], history(events.timerCreated(ts, 0, "2026-05-05T00:00:00.000Z")));
    expect(r).toMatchObject({ ok: true, planned: [{ kind: "timer", id: 0, fireAt: "2026-05-05T00:00:00.000Z", isCanceled: true, isNew: false }] });
  });
});

describe("planEpisode: callActivityWithRetry", () => {
  const options = { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2 };

  it("a failure takes the next number for the retry timer, its firing the next for the new attempt (the library's RetryableTask)", () => {
    const failed = history(events.taskScheduled(ts, 0, "a", undefined), events.orchestratorStarted(at(5)), events.taskFailed(at(5), 0, "boom", ""));
    expect(plan([withRetry("a", options)], failed)).toEqual({
      ok: true,
      planned: [
        { kind: "activity", id: 0, name: "a", input: undefined, isNew: false },
        { kind: "timer", id: 1, fireAt: at(6), isCanceled: false, isNew: true },
      ],
    });
    const fired = [...failed, events.timerCreated(at(5), 1, at(6)), events.orchestratorStarted(at(6)), events.timerFired(at(6), 1, at(6))];
    expect(plan([withRetry("a", options)], fired)).toMatchObject({
      ok: true,
      planned: [{ id: 0 }, { id: 1, isNew: false }, { kind: "activity", id: 2, name: "a", isNew: true }],
    });
  });

  it("retry numbers interleave with later yields in history order", () => {
    const h = history(
      events.taskScheduled(ts, 0, "a", undefined),
      events.orchestratorStarted(at(1)),
      events.taskFailed(at(1), 0, "boom", ""),
      events.timerCreated(at(1), 1, at(2)),
      events.orchestratorStarted(at(2)),
      events.timerFired(at(2), 1, at(2)),
      events.taskScheduled(at(2), 2, "a", undefined),
      events.orchestratorStarted(at(3)),
      events.taskCompleted(at(3), 2, '"ok"'),
    );
    const r = plan([withRetry("a", options), activity("b")], h);
    expect(r).toMatchObject({ ok: true, planned: [{ id: 0 }, { id: 1 }, { id: 2 }, { kind: "activity", id: 3, name: "b", isNew: true }] });
  });

  it("a retry inside Task.all takes numbers after its siblings", () => {
    const h = history(
      events.taskScheduled(ts, 0, "a", undefined),
      events.taskScheduled(ts, 1, "b", undefined),
      events.orchestratorStarted(at(1)),
      events.taskFailed(at(1), 0, "boom", ""),
    );
    const r = plan([all(withRetry("a", options), activity("b"))], h);
    expect(r).toMatchObject({ ok: true, planned: [{ id: 0 }, { id: 1, name: "b" }, { kind: "timer", id: 2, fireAt: at(2), isNew: true }] });
  });

  it("after the last attempt's timer fires nothing more is scheduled (the library raises the failure)", () => {
    const h = history(
      events.taskScheduled(ts, 0, "a", undefined),
      events.orchestratorStarted(at(1)),
      events.taskFailed(at(1), 0, "boom", ""),
      events.timerCreated(at(1), 1, at(2)),
      events.orchestratorStarted(at(2)),
      events.timerFired(at(2), 1, at(2)),
      events.taskScheduled(at(2), 2, "a", undefined),
      events.orchestratorStarted(at(3)),
      events.taskFailed(at(3), 2, "boom", ""),
      events.timerCreated(at(3), 3, at(4)),
      events.orchestratorStarted(at(4)),
      events.timerFired(at(4), 3, at(4)),
    );
    const r = plan([withRetry("a", options)], h);
    expect(r.ok && r.planned.map((p) => p.id)).toEqual([0, 1, 2, 3]);
  });

  it("fails the instance with a clear message once retryTimeoutInMilliseconds has passed", () => {
    const h = history(events.taskScheduled(ts, 0, "a", undefined), events.orchestratorStarted(at(10)), events.taskFailed(at(10), 0, "boom", ""));
    const r = plan([withRetry("a", { ...options, retryTimeoutInMilliseconds: 5000 })], h);
    expect(r).toMatchObject({ ok: false, kind: "retryWindowOver" });
    if (!r.ok) expect(r.message).toContain("azure-functions-durable-js#629");
  });
});

describe("retryDelayMs (the extension's ComputeNextDelay)", () => {
  it("grows by backoffCoefficient per failure and is capped at maxRetryIntervalInMilliseconds", () => {
    const o = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 9, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 500 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(o, n, 0, 0))).toEqual([100, 200, 400, 500]);
    expect(retryDelayMs({ firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 3 }, 3, 0, 0)).toBe(100);
  });

  it("stops when the retry timeout has passed since the first attempt", () => {
    const o = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 9, retryTimeoutInMilliseconds: 1000 };
    expect(retryDelayMs(o, 1, 0, 999)).toBe(100);
    expect(retryDelayMs(o, 1, 0, 1000)).toBeUndefined();
  });
});

describe("inputToJsonText", () => {
  it("keeps the library's pre-encoded strings and encodes other values", () => {
    expect(inputToJsonText('"hi"')).toBe('"hi"');
    expect(inputToJsonText({ a: 1 })).toBe('{"a":1}');
    expect(inputToJsonText(0)).toBe("0");
    expect(inputToJsonText(null)).toBe("null");
    expect(inputToJsonText(undefined)).toBeUndefined();
  });
});
