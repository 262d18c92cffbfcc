/**
 * Which task id belongs to which piece of scheduled work: the bookkeeping of durable-functions'
 * TaskOrchestrationExecutor, mirrored so the engine writes histories the library will match.
 *
 * The library numbers tasks with one sequence counter, in the order it tracks them while it replays the
 * history: a yielded task's activity calls and timers take the next numbers (event waits take none, a task
 * yielded again keeps its number), and a `callActivityWithRetry` task takes a new number for its retry
 * timer when it processes a failure and another for the next attempt when that timer fires
 * (RetryableTask). Retry numbers therefore interleave with the numbers of later yields, in history order,
 * so the numbering cannot be read off the action list alone: this module replays the history against the
 * actions the episode returned (one action per yield of a running task, in yield order) with the
 * library's task-state rules (WhenAllTask, WhenAnyTask, RetryableTask, deferred results).
 *
 * Limitation (written down, not guessed around): yielding again a bare task that is already scheduled adds
 * no action, so it is invisible here; work tracked after it is numbered as if that yield had not happened.
 * Only the relative order of retry numbers and later yields can then differ, and the determinism check
 * reports it instead of writing an inconsistent history.
 */
import { EventType, type HistoryEvent } from "../history";
import { ActionType, type RawAction, type RetryOptionsJson } from "./actions";

type TaskState = "running" | "completed" | "failed";

interface BaseTask {
  state: TaskState;
  parent?: CompoundTask;
}

/** An activity call, a timer, an event wait, or a retry's placeholder (the library's NoOpTask). */
interface AtomicTask extends BaseTask {
  kind: "atomic";
  /** Task number, or the event name for waits; undefined until tracked. */
  id: number | string | undefined;
  work:
    | { type: "activity"; action: RawAction }
    | { type: "timer"; action: RawAction }
    | { type: "wait" }
    | { type: "retryTimer" | "retryAttempt"; retry: RetryTask };
}

interface CompoundTask extends BaseTask {
  kind: "all" | "any" | "retry";
  children: SimTask[];
}

interface RetryTask extends CompoundTask {
  kind: "retry";
  action: RawAction;
  options: RetryOptionsJson;
  attempt: number;
  waitingOnTimer: boolean;
  /** Orchestrator time when the first attempt was tracked (the extension's `firstAttempt`). */
  firstAttemptAt: number;
}

type SimTask = AtomicTask | CompoundTask;

/** A task number and the work the history must hold for it. */
export type NumberedWork =
  | { id: number; type: "activity"; name: string; input: unknown; action: RawAction }
  | { id: number; type: "timer"; action: RawAction }
  | { id: number; type: "retryTimer"; failures: number; options: RetryOptionsJson; firstAttemptAt: number; failedAt: number; action: RawAction }
  | { id: number; type: "retryAttempt"; name: string; input: unknown; action: RawAction };

/**
 * Replays `history` against the episode's yields and returns every numbered piece of work in number order.
 * `yields`: the top-level actions the library returned (live objects when available: object identity marks
 * a task yielded again).
 */
export function numberTasks(yields: RawAction[], history: HistoryEvent[]): NumberedWork[] {
  const mirror = new ExecutorMirror(yields);
  for (const e of history) mirror.process(e);
  return mirror.numbered;
}

class ExecutorMirror {
  readonly numbered: NumberedWork[] = [];
  private seq = 0;
  private now = 0;
  private next = 0;
  private current: SimTask | undefined;
  private readonly open = new Map<number, AtomicTask>();
  private readonly openEvents = new Map<string, AtomicTask[]>();
  private readonly deferred = new Map<number | string, HistoryEvent[]>();
  private readonly tasksByAction = new Map<object, SimTask>();

  constructor(private readonly yields: RawAction[]) {}

  process(e: HistoryEvent): void {
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
        this.now = Math.max(this.now, Date.parse(e.Timestamp));
        return;
      case EventType.ExecutionStarted:
        this.resume();
        return;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
        this.deliver(e.TaskScheduledId as number, e);
        this.resume();
        return;
      case EventType.TimerFired:
        this.deliver(e.TimerId as number, e);
        this.resume();
        return;
      case EventType.EventRaised:
        this.deliver(String(e.Name), e);
        this.resume();
        return;
    }
  }

  /** The generator runs on while its current task is done: each further yield is the next action. */
  private resume(): void {
    while (!this.current || this.current.state !== "running") {
      const action = this.yields[this.next++];
      if (action === undefined) return;
      this.current = this.taskFor(action);
      this.track(this.current);
    }
  }

  private taskFor(action: RawAction): SimTask {
    const known = this.tasksByAction.get(action);
    if (known) return known;
    let task: SimTask;
    switch (action.actionType) {
      case ActionType.WhenAll:
      case ActionType.WhenAny: {
        const compound: CompoundTask = { kind: action.actionType === ActionType.WhenAll ? "all" : "any", state: "running", children: [] };
        compound.children = (action.compoundActions ?? []).map((child) => this.taskFor(child));
        for (const child of compound.children) child.parent = compound; // a newer compound adopts the child, as in the library
        task = compound;
        break;
      }
      case ActionType.CallActivityWithRetry: {
        const retry: RetryTask = {
          kind: "retry",
          state: "running",
          children: [],
          action,
          options: action.retryOptions as RetryOptionsJson,
          attempt: 1,
          waitingOnTimer: false,
          firstAttemptAt: this.now,
        };
        const first: AtomicTask = { kind: "atomic", state: "running", id: undefined, work: { type: "activity", action }, parent: retry };
        retry.children.push(first);
        task = retry;
        break;
      }
      case ActionType.WaitForExternalEvent:
        task = { kind: "atomic", state: "running", id: String(action.externalEventName), work: { type: "wait" } };
        break;
      case ActionType.CallActivity:
        task = { kind: "atomic", state: "running", id: undefined, work: { type: "activity", action } };
        break;
      case ActionType.CreateTimer:
        task = { kind: "atomic", state: "running", id: undefined, work: { type: "timer", action } };
        break;
      default:
        throw new Error(`action type ${action.actionType} reached task numbering (planEpisode checks support first)`);
    }
    this.tasksByAction.set(action, task);
    return task;
  }

  /** TaskOrchestrationExecutor.trackOpenTask. */
  private track(task: SimTask): void {
    if (task.kind !== "atomic") {
      for (const child of task.children) this.track(child);
      return;
    }
    if (task.id === undefined) {
      const id = this.seq++;
      task.id = id;
      this.open.set(id, task);
      this.numbered.push(this.describe(id, task));
    } else if (task.work.type === "wait") {
      const list = this.openEvents.get(task.id as string) ?? [];
      list.push(task);
      this.openEvents.set(task.id as string, list);
    }
    const waiting = this.deferred.get(task.id);
    const event = waiting?.shift();
    if (waiting && waiting.length === 0) this.deferred.delete(task.id);
    if (event) this.deliver(task.id, event);
  }

  private describe(id: number, task: AtomicTask): NumberedWork {
    const w = task.work;
    if (w.type === "activity") return { id, type: "activity", name: String(w.action.functionName), input: w.action.input, action: w.action };
    if (w.type === "timer") return { id, type: "timer", action: w.action };
    if (w.type === "retryAttempt")
      return { id, type: "retryAttempt", name: String(w.retry.action.functionName), input: w.retry.action.input, action: w.retry.action };
    if (w.type === "retryTimer") {
      const r = w.retry;
      return { id, type: "retryTimer", failures: r.attempt - 1, options: r.options, firstAttemptAt: r.firstAttemptAt, failedAt: this.now, action: r.action };
    }
    throw new Error("event waits take no task number");
  }

  /** TaskOrchestrationExecutor.setTaskValue: a result for an open task, else kept until the task is tracked. */
  private deliver(key: number | string, e: HistoryEvent): void {
    let task: AtomicTask | undefined;
    if (typeof key === "number") {
      task = this.open.get(key);
      if (task) this.open.delete(key);
    }
    if (!task) {
      const list = this.openEvents.get(String(key));
      task = list?.pop();
      if (list && list.length === 0) this.openEvents.delete(String(key));
    }
    if (!task) {
      const list = this.deferred.get(key) ?? [];
      list.push(e);
      this.deferred.set(key, list);
      return;
    }
    this.settle(task, e.EventType === EventType.TaskFailed ? "failed" : "completed");
  }

  private settle(task: SimTask, state: "completed" | "failed"): void {
    task.state = state;
    const parent = task.parent;
    if (!parent) return;
    if (parent.kind === "retry") this.retryChildSettled(parent as RetryTask, task);
    else if (parent.kind === "any") {
      if (parent.state === "running") this.settle(parent, "completed");
    } else if (task.state === "completed") {
      if (parent.state === "running" && parent.children.every((c) => c.state === "completed")) this.settle(parent, "completed");
    } else if (parent.state === "running") this.settle(parent, "failed");
  }

  /** RetryableTask.trySetValue. */
  private retryChildSettled(retry: RetryTask, child: SimTask): void {
    if (retry.waitingOnTimer) {
      retry.waitingOnTimer = false;
      if (retry.attempt > retry.options.maxNumberOfAttempts) {
        this.settle(retry, "failed");
        return;
      }
      this.trackPlaceholder(retry, "retryAttempt");
    } else if (child.state === "completed") {
      this.settle(retry, "completed");
    } else {
      retry.waitingOnTimer = true;
      retry.attempt++;
      this.trackPlaceholder(retry, "retryTimer");
    }
  }

  private trackPlaceholder(retry: RetryTask, type: "retryTimer" | "retryAttempt"): void {
    const placeholder: AtomicTask = { kind: "atomic", state: "running", id: undefined, work: { type, retry }, parent: retry };
    retry.children.push(placeholder);
    this.track(placeholder);
  }
}
