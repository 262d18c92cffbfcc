/**
 * Turns the actions an orchestrator episode returned into scheduling decisions, and checks them against
 * the history: the determinism check the JS library does not do itself. Numbering: see taskNumbering.ts.
 */
import { EVENT_TYPE_NAMES, EventType, type HistoryEvent } from "../history";
import { ActionType, describeAction, inputToJsonText, type RawAction } from "./actions";
import { retryDelayMs } from "./retryPolicy";
import { numberTasks, type NumberedWork } from "./taskNumbering";

export interface PlannedActivity {
  kind: "activity";
  id: number;
  name: string;
  /** JSON text of the input, as stored in TaskScheduled.Input. */
  input: string | undefined;
  isNew: boolean;
}

export interface PlannedTimer {
  kind: "timer";
  id: number;
  fireAt: string;
  isCanceled: boolean;
  isNew: boolean;
}

export type PlannedAction = PlannedActivity | PlannedTimer;

export type PlanResult = { ok: true; planned: PlannedAction[] } | { ok: false; kind: "nonDeterministic" | "unsupported" | "retryWindowOver"; message: string };

const SUPPORTED_TYPES = new Set<number>([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CreateTimer,
  ActionType.WaitForExternalEvent,
  ActionType.WhenAny,
  ActionType.WhenAll,
]);
const SUPPORTED = "callActivity, callActivityWithRetry, createTimer, waitForExternalEvent, Task.any, Task.all";

function describeEvent(e: HistoryEvent): string {
  const name = EVENT_TYPE_NAMES[e.EventType] ?? `event type ${e.EventType}`;
  return e.EventType === EventType.TaskScheduled ? `${name} '${e.Name}'` : name;
}

function describeWork(w: NumberedWork): string {
  if (w.type === "retryTimer") return `the retry timer of ${describeAction(w.action)}`;
  if (w.type === "retryAttempt") return `a new attempt of ${describeAction(w.action)}`;
  return describeAction(w.action);
}

/**
 * `yields`: the episode's top-level actions (topLevelYields); `history`: the whole history the episode
 * replayed (committed events and this episode's new ones); `scheduled`: its scheduling events by task id
 * (summarize). `orchestratorName` only makes the messages readable.
 */
export function planEpisode(orchestratorName: string, yields: RawAction[], history: HistoryEvent[], scheduled: HistoryEvent[]): PlanResult {
  const unsupported = findUnsupported(yields);
  if (unsupported) {
    return {
      ok: false,
      kind: "unsupported",
      message: `Orchestrator '${orchestratorName}' used ${describeAction(unsupported)}, which the local Durable runtime does not support (supported: ${SUPPORTED}).`,
    };
  }
  const numbered = numberTasks(yields, history);
  const planned: PlannedAction[] = [];
  for (const work of numbered) {
    const recorded = scheduled[work.id];
    const isActivity = work.type === "activity" || work.type === "retryAttempt";
    if (recorded) {
      const sameKind = recorded.EventType === (isActivity ? EventType.TaskScheduled : EventType.TimerCreated);
      const sameName = !isActivity || recorded.Name === work.name;
      if (!sameKind || !sameName) {
        return {
          ok: false,
          kind: "nonDeterministic",
          message:
            `Non-deterministic orchestrator '${orchestratorName}': on replay it scheduled ${describeWork(work)} as task #${work.id}, ` +
            `but the history recorded ${describeEvent(recorded)} for task #${work.id}. Orchestrator code must not change while instances are running.`,
        };
      }
    }
    if (work.type === "activity" || work.type === "retryAttempt") {
      planned.push({ kind: "activity", id: work.id, name: work.name, input: inputToJsonText(work.input), isNew: !recorded });
    } else if (work.type === "timer") {
      const fireAt = work.action.fireAt instanceof Date ? work.action.fireAt.toISOString() : String(work.action.fireAt);
      planned.push({ kind: "timer", id: work.id, fireAt: recorded?.FireAt ?? fireAt, isCanceled: work.action.isCanceled === true, isNew: !recorded });
    } else if (recorded?.FireAt !== undefined) {
      planned.push({ kind: "timer", id: work.id, fireAt: recorded.FireAt, isCanceled: false, isNew: false });
    } else {
      const delay = retryDelayMs(work.options, work.failures, work.firstAttemptAt, work.failedAt);
      if (delay === undefined) {
        return {
          ok: false,
          kind: "retryWindowOver",
          message:
            `Orchestrator '${orchestratorName}': ${describeAction(work.action)} failed ${work.failures} time(s) and its retryTimeoutInMilliseconds ` +
            `(${work.options.retryTimeoutInMilliseconds}) has passed. The Durable extension then stops retrying without giving the ` +
            "orchestrator a catchable error (azure-functions-durable-js#629), so the local runtime fails the instance instead. " +
            "Use maxNumberOfAttempts to bound retries.",
        };
      }
      planned.push({ kind: "timer", id: work.id, fireAt: new Date(work.failedAt + delay).toISOString(), isCanceled: false, isNew: true });
    }
  }
  const recordedCount = scheduled.filter(Boolean).length;
  if (numbered.length < recordedCount) {
    const missing = scheduled[numbered.length];
    return {
      ok: false,
      kind: "nonDeterministic",
      message:
        `Non-deterministic orchestrator '${orchestratorName}': on replay it scheduled ${numbered.length} task(s), but the history recorded ` +
        `${recordedCount} (task #${numbered.length} was ${missing ? describeEvent(missing) : "missing"}). Orchestrator code must not change while instances are running.`,
    };
  }
  return { ok: true, planned: planned.sort((a, b) => a.id - b.id) };
}

function findUnsupported(actions: RawAction[]): RawAction | undefined {
  for (const a of actions) {
    if (!SUPPORTED_TYPES.has(a.actionType)) return a;
    const inner = a.compoundActions && findUnsupported(a.compoundActions);
    if (inner) return inner;
  }
  return undefined;
}
