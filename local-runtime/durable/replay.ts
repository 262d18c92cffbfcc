/**
 * Turns the actions an orchestrator episode returned into scheduling decisions, and checks them against
 * the history (the determinism check the JS library does not do itself).
 *
 * The library returns, on every episode, ALL actions the orchestrator code has scheduled since the
 * start (it re-runs the code from the beginning). It numbers tasks with one sequence counter, in the
 * order it first tracks them: activity calls and timers take the next number, external-event waits take
 * none, and a task yielded a second time (say, the same timer inside a new Task.any) keeps its number.
 * We mirror that numbering here; the history's TaskScheduled/TimerCreated events carry the same numbers
 * as their EventId, so replaying code must produce the same kinds and names at the same numbers.
 */
import { EVENT_TYPE_NAMES, EventType, type HistoryEvent } from "./history";

/** durable-functions ActionType values. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const ACTION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k]));

export interface RawAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: string | Date;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: RawAction[];
  [key: string]: unknown;
}

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

export type PlanResult = { ok: true; planned: PlannedAction[] } | { ok: false; kind: "nonDeterministic" | "unsupported"; message: string };

/**
 * Flattens the episode's actions (nested arrays, WhenAny/WhenAll compounds) in the library's tracking
 * order. Object identity marks a task yielded again: only its first appearance counts. Pass the live
 * objects when available; plain JSON works too but cannot see repeats.
 */
export function flattenActions(actions: unknown): RawAction[] {
  const out: RawAction[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (!node || typeof node !== "object") return;
    if (seen.has(node)) return;
    seen.add(node);
    const action = node as RawAction;
    if (action.actionType === ActionType.WhenAny || action.actionType === ActionType.WhenAll) {
      visit(action.compoundActions ?? []);
      return;
    }
    out.push(action);
  };
  visit(actions);
  return out;
}

/** Input as the extension stores it: the library already JSON-encodes string inputs, other values are JSON values. */
export function inputToJsonText(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (typeof input === "string") return input;
  return JSON.stringify(input);
}

function describeAction(a: RawAction): string {
  if (a.actionType === ActionType.CallActivity) return `CallActivity '${a.functionName}'`;
  if (a.actionType === ActionType.CreateTimer) return "CreateTimer";
  return ACTION_NAMES[a.actionType] ?? `action type ${a.actionType}`;
}

function describeEvent(e: HistoryEvent): string {
  const name = EVENT_TYPE_NAMES[e.EventType] ?? `event type ${e.EventType}`;
  return e.EventType === EventType.TaskScheduled ? `${name} '${e.Name}'` : name;
}

/**
 * Matches the flattened actions against the history's scheduling events (indexed by task id).
 * `orchestratorName` only makes the messages readable.
 */
export function planActions(orchestratorName: string, actions: RawAction[], scheduled: HistoryEvent[]): PlanResult {
  const planned: PlannedAction[] = [];
  let seq = 0;
  for (const action of actions) {
    let expectedType: number;
    switch (action.actionType) {
      case ActionType.WaitForExternalEvent:
        continue; // waits are not recorded in the history and take no task id
      case ActionType.CallActivity:
        expectedType = EventType.TaskScheduled;
        break;
      case ActionType.CreateTimer:
        expectedType = EventType.TimerCreated;
        break;
      default:
        return {
          ok: false,
          kind: "unsupported",
          message:
            `Orchestrator '${orchestratorName}' used ${describeAction(action)}, which the local Durable runtime does not support ` +
            "(supported: callActivity, createTimer, waitForExternalEvent, Task.any, Task.all).",
        };
    }
    const id = seq++;
    const recorded = scheduled[id];
    if (recorded) {
      const sameKind = recorded.EventType === expectedType;
      const sameName = expectedType !== EventType.TaskScheduled || recorded.Name === action.functionName;
      if (!sameKind || !sameName) {
        return {
          ok: false,
          kind: "nonDeterministic",
          message:
            `Non-deterministic orchestrator '${orchestratorName}': on replay it scheduled ${describeAction(action)} as task #${id}, ` +
            `but the history recorded ${describeEvent(recorded)} for task #${id}. Orchestrator code must not change while instances are running.`,
        };
      }
    }
    if (action.actionType === ActionType.CallActivity) {
      planned.push({ kind: "activity", id, name: String(action.functionName), input: inputToJsonText(action.input), isNew: !recorded });
    } else {
      const fireAt = action.fireAt instanceof Date ? action.fireAt.toISOString() : String(action.fireAt);
      planned.push({ kind: "timer", id, fireAt: recorded?.FireAt ?? fireAt, isCanceled: action.isCanceled === true, isNew: !recorded });
    }
  }
  const recordedCount = scheduled.filter(Boolean).length;
  if (seq < recordedCount) {
    const missing = scheduled[seq];
    return {
      ok: false,
      kind: "nonDeterministic",
      message:
        `Non-deterministic orchestrator '${orchestratorName}': on replay it scheduled ${seq} task(s), but the history recorded ` +
        `${recordedCount} (task #${seq} was ${missing ? describeEvent(missing) : "missing"}). Orchestrator code must not change while instances are running.`,
    };
  }
  return { ok: true, planned };
}
