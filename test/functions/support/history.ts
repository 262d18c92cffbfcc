/**
 * Host-shaped orchestration histories for tests, written by hand: PascalCase events with numeric
 * EventType, as the Durable Functions extension sends them to out-of-process orchestrators.
 *
 * The JS library does not detect non-deterministic replay, so a test must keep its history consistent
 * with the actions the orchestrator returned (task ids = order in which timers/activities were scheduled).
 * `Episode` helps: each `episode()` adds OrchestratorStarted ... OrchestratorCompleted, and every event
 * of earlier episodes is marked IsPlayed, as the extension does.
 */
import type { FunctionsCore } from "../../../local-runtime/functionsCore";

// The exact host shapes the local Durable engine also produces: one definition of what the host sends.
import { EventType, type HistoryEvent } from "../../../local-runtime/durable/history";
export { EventType, type HistoryEvent };

/** What the host sends for an orchestration trigger (note the library's misspelled key). */
export interface HostOrchestrationContext {
  history: HistoryEvent[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: string | null;
  upperSchemaVersion: number;
  upperSchemaVersionNew?: number;
  longRunningTimerIntervalDuration: string;
  maximumShortTimerDuration: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
}

/** What the library answers. */
export interface OrchestratorState {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion: number;
}

export interface Action {
  actionType: number;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  functionName?: string;
  input?: unknown;
  compoundActions?: Action[];
  [k: string]: unknown;
}

export const ActionType = { CallActivity: 0, CallActivityWithRetry: 1, CreateTimer: 5, WaitForExternalEvent: 6, WhenAny: 11, WhenAll: 12 } as const;

const iso = (d: Date): string => d.toISOString();

export class History {
  readonly events: HistoryEvent[] = [];

  constructor(
    readonly instanceId: string,
    readonly input: unknown,
    readonly name = "matchRequest",
  ) {}

  /** A new episode at `at`: everything before it is "played". */
  episode(at: Date, build: (e: Episode) => void = () => {}): this {
    for (const ev of this.events) ev.IsPlayed = true;
    this.events.push({ EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: iso(at) });
    if (this.events.length === 1) {
      this.events.push({
        EventType: EventType.ExecutionStarted,
        EventId: -1,
        IsPlayed: false,
        Timestamp: iso(at),
        Name: this.name,
        Input: JSON.stringify(this.input),
        OrchestrationInstance: { InstanceId: this.instanceId, ExecutionId: "00000000000000000000000000000001" },
      });
    }
    build(new Episode(this.events, at));
    return this;
  }

  /** Closes the last episode as the host records it after applying the answer's actions. */
  close(at: Date, build: (e: Episode) => void = () => {}): this {
    build(new Episode(this.events, at));
    this.events.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: iso(at) });
    return this;
  }

  hostContext(schema: { upper: number; upperNew?: number } = { upper: 2, upperNew: 3 }): HostOrchestrationContext {
    return {
      history: JSON.parse(JSON.stringify(this.events)) as HistoryEvent[],
      input: this.input,
      instanceId: this.instanceId,
      isReplaying: this.events.some((e) => e.IsPlayed),
      parentInstanceId: null,
      upperSchemaVersion: schema.upper,
      ...(schema.upperNew !== undefined ? { upperSchemaVersionNew: schema.upperNew } : {}),
      longRunningTimerIntervalDuration: "3.00:00:00",
      maximumShortTimerDuration: "6.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
  }
}

export class Episode {
  constructor(
    private readonly events: HistoryEvent[],
    private readonly at: Date,
  ) {}

  private push(e: Omit<HistoryEvent, "IsPlayed" | "Timestamp">): this {
    this.events.push({ ...e, IsPlayed: false, Timestamp: iso(this.at) });
    return this;
  }

  timerCreated(id: number, fireAt: Date): this {
    return this.push({ EventType: EventType.TimerCreated, EventId: id, FireAt: iso(fireAt) });
  }
  timerFired(timerId: number, fireAt: Date): this {
    return this.push({ EventType: EventType.TimerFired, EventId: -1, TimerId: timerId, FireAt: iso(fireAt) });
  }
  eventRaised(name: string, payload: unknown): this {
    return this.push({ EventType: EventType.EventRaised, EventId: -1, Name: name, Input: JSON.stringify(payload) });
  }
  taskScheduled(id: number, name: string, input: unknown): this {
    return this.push({ EventType: EventType.TaskScheduled, EventId: id, Name: name, Input: JSON.stringify(input) });
  }
  taskCompleted(scheduledId: number, result: unknown): this {
    return this.push({ EventType: EventType.TaskCompleted, EventId: -1, TaskScheduledId: scheduledId, Result: JSON.stringify(result) });
  }
  taskFailed(scheduledId: number, reason: string): this {
    return this.push({ EventType: EventType.TaskFailed, EventId: -1, TaskScheduledId: scheduledId, Reason: reason, Details: reason });
  }
}

/** Runs one episode through the real durable-functions replay code behind the captured registration. */
export async function runEpisode(core: FunctionsCore, history: History, schema?: { upper: number; upperNew?: number }): Promise<OrchestratorState> {
  const reg = core.get(history.name);
  const response = await core.invoke(history.name, {
    inputData: [{ name: reg.trigger.name, data: { string: JSON.stringify(history.hostContext(schema)) } }],
  });
  const rv = response.returnValue as { json?: string; string?: string } | null | undefined;
  const text = rv?.json ?? rv?.string;
  if (text === undefined) throw new Error(`orchestrator returned no value: ${JSON.stringify(response)}`);
  return JSON.parse(text) as OrchestratorState;
}

/** Every leaf action of an answer, compound actions flattened (schema V2+ nests them in WhenAny). */
export function leafActions(state: OrchestratorState): Action[] {
  const out: Action[] = [];
  const walk = (a: Action) => (a.compoundActions ? a.compoundActions.forEach(walk) : out.push(a));
  for (const group of state.actions) for (const a of group) walk(a);
  return out;
}
