/**
 * History events in the shape the Durable Functions extension hands to out-of-process orchestrators
 * (PascalCase, numeric EventType), as read by durable-functions' TaskOrchestrationExecutor.
 *
 * Only the event types the local runtime produces are modelled. Timestamps are ISO strings: the library
 * turns every `Timestamp` string of the trigger payload into a Date itself.
 */

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
} as const;

export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

export const EVENT_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

export interface HistoryEvent {
  EventType: EventTypeValue;
  /** Sequence number for TaskScheduled / TimerCreated (the task id the library matches on); -1 otherwise. */
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  /** JSON text, as the extension stores inputs. */
  Input?: string;
  /** JSON text of an activity result. */
  Result?: string;
  FireAt?: string;
  TimerId?: number;
  TaskScheduledId?: number;
  Reason?: string;
  Details?: string;
  OrchestrationStatus?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: null;
  Version?: string;
}

function base(type: EventTypeValue, timestamp: string, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: timestamp };
}

export const events = {
  orchestratorStarted: (ts: string): HistoryEvent => base(EventType.OrchestratorStarted, ts),
  orchestratorCompleted: (ts: string): HistoryEvent => base(EventType.OrchestratorCompleted, ts),
  executionStarted: (ts: string, name: string, input: string | undefined, instanceId: string, executionId: string): HistoryEvent => ({
    ...base(EventType.ExecutionStarted, ts),
    Name: name,
    Input: input,
    OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
    ParentInstance: null,
    Version: "",
  }),
  executionCompleted: (ts: string, status: "Completed" | "Failed" | "Terminated", result: string | undefined): HistoryEvent => ({
    ...base(EventType.ExecutionCompleted, ts),
    OrchestrationStatus: status,
    Result: result,
  }),
  executionTerminated: (ts: string, reason: string): HistoryEvent => ({ ...base(EventType.ExecutionTerminated, ts), Input: reason }),
  taskScheduled: (ts: string, id: number, name: string, input: string | undefined): HistoryEvent => ({
    ...base(EventType.TaskScheduled, ts, id),
    Name: name,
    Input: input,
    Version: "",
  }),
  taskCompleted: (ts: string, taskScheduledId: number, result: string): HistoryEvent => ({
    ...base(EventType.TaskCompleted, ts),
    TaskScheduledId: taskScheduledId,
    Result: result,
  }),
  taskFailed: (ts: string, taskScheduledId: number, reason: string, details: string): HistoryEvent => ({
    ...base(EventType.TaskFailed, ts),
    TaskScheduledId: taskScheduledId,
    Reason: reason,
    Details: details,
  }),
  timerCreated: (ts: string, id: number, fireAt: string): HistoryEvent => ({ ...base(EventType.TimerCreated, ts, id), FireAt: fireAt }),
  timerFired: (ts: string, timerId: number, fireAt: string): HistoryEvent => ({
    ...base(EventType.TimerFired, ts),
    TimerId: timerId,
    FireAt: fireAt,
  }),
  eventRaised: (ts: string, name: string, input: string | undefined): HistoryEvent => ({ ...base(EventType.EventRaised, ts), Name: name, Input: input }),
};

/** What the history says about scheduled work: scheduling events by task id, and which ones are finished. */
export interface HistorySummary {
  /** TaskScheduled / TimerCreated events, indexed by their EventId (= the library's task sequence number). */
  scheduled: HistoryEvent[];
  /** Task ids whose TaskCompleted/TaskFailed or TimerFired is in the history. */
  finished: Set<number>;
  started: boolean;
}

export function summarize(history: HistoryEvent[]): HistorySummary {
  const scheduled: HistoryEvent[] = [];
  const finished = new Set<number>();
  let started = false;
  for (const e of history) {
    switch (e.EventType) {
      case EventType.TaskScheduled:
      case EventType.TimerCreated:
        scheduled[e.EventId] = e;
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
        finished.add(e.TaskScheduledId as number);
        break;
      case EventType.TimerFired:
        finished.add(e.TimerId as number);
        break;
      case EventType.ExecutionStarted:
        started = true;
        break;
    }
  }
  return { scheduled, finished, started };
}
