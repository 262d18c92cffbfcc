/** The determinism check and task numbering of the local Durable runtime (pure, no Redis). */
import { describe, expect, it } from "vitest";
import { events, type HistoryEvent } from "../../../local-runtime/durable/history";
import { ActionType, flattenActions, inputToJsonText, planActions } from "../../../local-runtime/durable/replay";

const ts = "2026-01-01T00:00:00.000Z";
const activity = (name: string, input?: unknown) => ({ actionType: ActionType.CallActivity, functionName: name, input });
const timer = (fireAt = "2026-01-01T00:01:00.000Z", isCanceled = false) => ({ actionType: ActionType.CreateTimer, fireAt, isCanceled });
const wait = (name: string) => ({ actionType: ActionType.WaitForExternalEvent, externalEventName: name, reason: "ExternalEvent" });

function scheduled(...evs: HistoryEvent[]): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  for (const e of evs) out[e.EventId] = e;
  return out;
}

describe("flattenActions", () => {
  it("flattens nested arrays and WhenAny/WhenAll in tracking order", () => {
    const a = activity("a");
    const t = timer();
    const w = wait("Go");
    const flat = flattenActions([
      [a, { actionType: ActionType.WhenAny, compoundActions: [t, { actionType: ActionType.WhenAll, compoundActions: [w, activity("b")] }] }],
    ]);
    expect(flat.map((x) => x.functionName ?? x.actionType)).toEqual(["a", ActionType.CreateTimer, ActionType.WaitForExternalEvent, "b"]);
  });

  it("counts a task yielded again (same action object) once", () => {
    const t = timer();
    const flat = flattenActions([
      [
        { actionType: ActionType.WhenAny, compoundActions: [t, wait("X")] },
        { actionType: ActionType.WhenAny, compoundActions: [t, wait("X")] },
      ],
    ]);
    expect(flat.filter((x) => x.actionType === ActionType.CreateTimer)).toHaveLength(1);
  });
});

describe("planActions", () => {
  it("numbers activities and timers from 0, skipping event waits, and marks what is new", () => {
    const history = scheduled(events.taskScheduled(ts, 0, "a", '"x"'));
    const r = planActions("orch", [activity("a", '"x"'), wait("E"), timer(), activity("b", { n: 1 })], history);
    expect(r).toEqual({
      ok: true,
      planned: [
        { kind: "activity", id: 0, name: "a", input: '"x"', isNew: false },
        { kind: "timer", id: 1, fireAt: "2026-01-01T00:01:00.000Z", isCanceled: false, isNew: true },
        { kind: "activity", id: 2, name: "b", input: '{"n":1}', isNew: true },
      ],
    });
  });

  it("reports a different activity name at a recorded position", () => {
    const r = planActions("orch", [activity("b")], scheduled(events.taskScheduled(ts, 0, "a", undefined)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe("nonDeterministic");
      expect(r.message).toContain("scheduled CallActivity 'b' as task #0");
      expect(r.message).toContain("TaskScheduled 'a'");
    }
  });

  it("reports a timer where the history has an activity", () => {
    const r = planActions("orch", [timer()], scheduled(events.taskScheduled(ts, 0, "a", undefined)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe("nonDeterministic");
  });

  it("reports code that now schedules fewer tasks than the history holds", () => {
    const r = planActions("orch", [activity("a")], scheduled(events.taskScheduled(ts, 0, "a", undefined), events.timerCreated(ts, 1, ts)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/scheduled 1 task\(s\), but the history recorded 2/);
  });

  it("rejects actions the local runtime does not implement", () => {
    const r = planActions("orch", [{ actionType: ActionType.CallActivityWithRetry, functionName: "a" }], []);
    expect(r).toMatchObject({ ok: false, kind: "unsupported" });
    const c = planActions("orch", [{ actionType: ActionType.ContinueAsNew }], []);
    expect(c).toMatchObject({ ok: false, kind: "unsupported" });
  });

  it("keeps the recorded fire time of a replayed timer and reports cancellation", () => {
    const r = planActions("orch", [timer("2030-01-01T00:00:00.000Z", true)], scheduled(events.timerCreated(ts, 0, "2026-05-05T00:00:00.000Z")));
    expect(r).toMatchObject({ ok: true, planned: [{ kind: "timer", id: 0, fireAt: "2026-05-05T00:00:00.000Z", isCanceled: true, isNew: false }] });
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
