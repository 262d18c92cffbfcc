/**
 * The Durable Functions extension's part, played locally: instance store, episodes that drive the real
 * durable-functions replay code, activities, durable timers, external events, terminate, purge, and the
 * extension's HTTP API (see httpApi.ts). State lives in Redis, so a new engine on the same Redis and task
 * hub resumes every waiting instance.
 *
 * An episode = one orchestrator invocation that consumes ALL messages queued for the instance at that
 * moment. Episodes of one instance never overlap (a per-instance promise chain); different instances run
 * concurrently up to `maxConcurrentOrchestrations`.
 *
 * Development and test tool: production runs on the Azure Functions host with the real extension.
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { Limiter } from "../../src/lib/limiter";
import type { FunctionsCore, Registration, RpcTypedData } from "../functionsCore";
import { EventType, events, summarize, type HistoryEvent, type HistorySummary } from "./history";
import { topLevelYields } from "./replay/actions";
import { planEpisode, type PlannedAction } from "./replay/plan";
import { WEBHOOK_PATH, handleDurableHttp, managementUrls, type DurableHttpRequest, type DurableHttpResponse } from "./httpApi";
import { durableCallKind } from "./callKinds";
import {
  DurableStore,
  activityField,
  isTerminal,
  timerMember,
  type EnqueueResult,
  type EpisodeCommit,
  type InstanceRecord,
  type PendingActivity,
  type QueueMessage,
} from "./store";

export interface DurableEngineOptions {
  core: FunctionsCore;
  redisUrl: string;
  prefix: string;
  taskHub: string;
  /** Origin the local host serves handleHttp on, e.g. http://127.0.0.1:7071 (no trailing slash needed). */
  baseUrl: string;
  /**
   * When set, the public webhook routes require it (`code` query parameter or `x-functions-key` header),
   * like the extension's system key. The durable client binding then reaches the engine through a
   * per-process secret path instead (the real extension's loopback RPC endpoint needs no key either).
   */
  systemKey?: string;
  /** Also accepted on the public webhook routes, as the host's master key is on Azure. */
  masterKey?: string;
  /** Connection name echoed in the management URLs (the real host uses the storage connection name). */
  connectionName?: string;
  maxConcurrentOrchestrations?: number;
  maxConcurrentActivities?: number;
  /** Diagnostics sink; default prints only errors of the engine itself (not of orchestrations). */
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

export interface DurableMetrics {
  /** Orchestrator invocations (episodes) run by this engine since it started. */
  orchestratorEpisodes: number;
  activityInvocations: number;
  /** Instances started through this engine since it started. */
  instances: number;
  /** Durable client calls served (the HTTP API, in process or over HTTP) by kind: start, status, raiseEvent ... */
  callsByKind: Record<string, number>;
}

export interface StartResult {
  status: "started" | "conflict" | "unknownOrchestrator" | "invalidInstanceId";
  instanceId: string;
  /** With "conflict": the runtimeStatus of the execution that is still active. */
  activeStatus?: string;
}

export interface StatusQuery {
  runtimeStatus?: string[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
}

/** The extension's own values for the out-of-process protocol. */
const UPPER_SCHEMA_VERSION = 2; // ReplaySchema.V3
const UPPER_SCHEMA_VERSION_NEW = 3; // ReplaySchema.V4
const LONG_RUNNING_TIMER_INTERVAL = "3.00:00:00";
// The real extension splits timers longer than this into shorter ones (Azure Storage queues cap message
// visibility at 7 days). Our timers live in a Redis sorted set with no such cap, so one timer is enough.
const MAXIMUM_SHORT_TIMER_DURATION = "36500.00:00:00";
const DEFAULT_HTTP_ASYNC_SLEEP_MS = 30000;
const OUT_OF_PROC_DATA_LABEL = "\n\n$OutOfProcData$:";
const TIMER_BATCH = 500;
const MAX_WAKE_DELAY_MS = 60_000;
const RETRY_AFTER_ERROR_MS = 1000;
const MAX_EPISODE_RETRIES = 5;

type EpisodeOutcome =
  | { kind: "continue"; planned: PlannedAction[]; customStatus: unknown }
  | { kind: "completed"; planned: PlannedAction[]; output: unknown; customStatus: unknown }
  | { kind: "failed"; message: string; customStatus?: unknown };

export class DurableEngine {
  private readonly core: FunctionsCore;
  private readonly store: DurableStore;
  readonly taskHub: string;
  readonly baseUrl: string;
  readonly systemKey: string | undefined;
  private readonly masterKey: string | undefined;
  readonly connectionName: string;
  /** Path segment that admits the durable client without the system key (only used when a key is set). */
  readonly rpcSegment: string;
  private readonly orchestrations: Limiter;
  private readonly activities: Limiter;
  private readonly log: NonNullable<DurableEngineOptions["log"]>;

  private started = false;
  private stopped = false;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly episodeQueued = new Set<string>();
  private readonly episodeErrors = new Map<string, number>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly captures = new Map<string, { functionName: string; result?: unknown }>();
  private hook: { dispose(): void } | undefined;
  private wakeHandle: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private firing = false;
  private fireAgain = false;
  private readonly counters: DurableMetrics = { orchestratorEpisodes: 0, activityInvocations: 0, instances: 0, callsByKind: {} };

  constructor(o: DurableEngineOptions) {
    this.core = o.core;
    this.taskHub = o.taskHub;
    this.baseUrl = o.baseUrl.replace(/\/+$/, "");
    this.systemKey = o.systemKey || undefined;
    this.masterKey = o.masterKey || undefined;
    this.connectionName = o.connectionName ?? "Storage";
    this.rpcSegment = `rpc-${randomBytes(16).toString("hex")}`;
    this.store = new DurableStore(o.redisUrl, o.prefix, o.taskHub);
    this.orchestrations = new Limiter(o.maxConcurrentOrchestrations ?? 64);
    this.activities = new Limiter(o.maxConcurrentActivities ?? 64);
    this.log =
      o.log ??
      ((level, message) => {
        if (level === "error") console.error(`[durable] ${message}`);
      });
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle

  /** Connects to Redis and resumes whatever a previous engine left: queued messages, activities, timers. */
  async start(): Promise<void> {
    if (this.started) throw new Error("DurableEngine.start() was already called");
    this.started = true;
    await this.store.connect((err) => this.log("error", `Redis: ${(err as Error).message ?? err}`));
    // The live action objects of an episode: needed to tell a task yielded again from a new one.
    this.hook = this.core.api.registerHook("postInvocation", (ctx: Record<string, unknown>) => {
      const inputs = ctx.inputs as unknown[] | undefined;
      const trigger = inputs?.[0] as { instanceId?: unknown } | undefined;
      const functionName = (ctx.invocationContext as { functionName?: string } | undefined)?.functionName;
      if (typeof trigger?.instanceId !== "string") return;
      const slot = this.captures.get(trigger.instanceId);
      if (slot && slot.functionName === functionName) slot.result = ctx.result;
    });
    for (const id of await this.store.runningIds()) this.kick(id);
    for (const a of await this.store.pendingActivities()) this.dispatchActivity(a);
    await this.scheduleWake();
  }

  /**
   * Stops scheduling new work, waits (up to `timeoutMs`) for work in progress, and closes the Redis
   * connection. Work cut off here is not lost: its queue messages and activity entries stay in Redis.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.wakeHandle) clearTimeout(this.wakeHandle);
    const deadline = Date.now() + timeoutMs;
    while (this.inflight.size && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([Promise.allSettled([...this.inflight]), bound]);
      clearTimeout(timer);
    }
    this.hook?.dispose();
    await this.store.close();
  }

  metrics(): DurableMetrics {
    return { ...this.counters, callsByKind: { ...this.counters.callsByKind } };
  }

  // ------------------------------------------------------------------------------------------------
  // Client operations (also used by the HTTP API)

  /** `input` is JSON text (or undefined for none). Without an instanceId a new one is generated, as the extension does. */
  async startNew(name: string, opts: { instanceId?: string; input?: string } = {}): Promise<StartResult> {
    this.assertRunning();
    const instanceId = opts.instanceId || randomUUID().replace(/-/g, "");
    if (!isValidInstanceId(instanceId)) return { status: "invalidInstanceId", instanceId };
    const reg = this.core.registrations.get(name);
    if (!reg || reg.trigger.type !== "orchestrationTrigger") return { status: "unknownOrchestrator", instanceId };
    const created = await this.withInstance(instanceId, () => this.store.createInstance(instanceId, name, randomUUID(), opts.input, new Date()));
    if (created !== true) return { status: "conflict", instanceId, activeStatus: created };
    this.counters.instances++;
    this.kick(instanceId);
    return { status: "started", instanceId };
  }

  /** `input` is JSON text (or undefined for no data). */
  async raiseEvent(instanceId: string, eventName: string, input?: string): Promise<EnqueueResult> {
    this.assertRunning();
    const r = await this.store.enqueueIfActive(instanceId, { type: "EventRaised", name: eventName, input });
    if (r === "queued") this.kick(instanceId);
    return r;
  }

  async terminate(instanceId: string, reason: string): Promise<EnqueueResult> {
    this.assertRunning();
    const r = await this.store.enqueueIfActive(instanceId, { type: "Terminate", reason });
    if (r === "queued") this.kick(instanceId);
    return r;
  }

  async getStatus(instanceId: string): Promise<InstanceRecord | undefined> {
    return this.store.getInstance(instanceId);
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return this.store.readHistory(instanceId);
  }

  async listInstances(q: StatusQuery = {}): Promise<InstanceRecord[]> {
    const ids = await this.store.listInstanceIds();
    const records = await this.store.getInstances(ids.filter((id) => !q.instanceIdPrefix || id.startsWith(q.instanceIdPrefix)));
    return records.filter((r): r is InstanceRecord => {
      if (!r) return false;
      if (q.runtimeStatus?.length && !q.runtimeStatus.includes(r.runtimeStatus)) return false;
      const created = Date.parse(r.createdTime);
      if (q.createdTimeFrom && created < q.createdTimeFrom.getTime()) return false;
      if (q.createdTimeTo && created > q.createdTimeTo.getTime()) return false;
      return true;
    });
  }

  /** Deletes a finished instance: "purged", "notFound", or "notFinished" (the extension answers 412). */
  async purge(instanceId: string): Promise<"purged" | "notFound" | "notFinished"> {
    return this.withInstance(instanceId, async () => {
      const rec = await this.store.getInstance(instanceId);
      if (!rec) return "notFound";
      if (!isTerminal(rec.runtimeStatus)) return "notFinished";
      return (await this.store.purge(instanceId)) ? "purged" : "notFound";
    });
  }

  // ------------------------------------------------------------------------------------------------
  // HTTP: the extension's webhook API and the durable client binding

  /**
   * Whether a webhook request may proceed (checked before its body is read): without a system key every
   * request; with one, the durable client's RPC path, or the system key or master key in `code` or
   * `x-functions-key`, as the extension's webhooks take them on Azure.
   */
  isAuthorized(req: { url: string; headers: Record<string, string> }): boolean {
    if (!this.systemKey) return true;
    const url = new URL(req.url, this.baseUrl);
    if (url.pathname.startsWith(`${WEBHOOK_PATH}/${this.rpcSegment}/`)) return true;
    const given = url.searchParams.get("code") ?? Object.entries(req.headers).find(([k]) => k.toLowerCase() === "x-functions-key")?.[1] ?? "";
    return [this.systemKey, this.masterKey].some((k) => k !== undefined && keyEquals(given, k));
  }

  handleHttp(req: DurableHttpRequest): Promise<DurableHttpResponse | undefined> {
    const kind = durableCallKind(req.method, req.url);
    if (kind) this.counters.callsByKind[kind] = (this.counters.callsByKind[kind] ?? 0) + 1;
    return handleDurableHttp(this, req);
  }

  /** The webhook root, e.g. http://127.0.0.1:7071/runtime/webhooks/durabletask */
  get webhookBase(): string {
    return `${this.baseUrl}${WEBHOOK_PATH}`;
  }

  /** Query string every public management URL carries (task hub, connection, system key). */
  managementQuery(): string {
    const q = `taskHub=${encodeURIComponent(this.taskHub)}&connection=${encodeURIComponent(this.connectionName)}`;
    return this.systemKey ? `${q}&code=${encodeURIComponent(this.systemKey)}` : q;
  }

  /** The durableClient input binding data, as the host passes it to a function with `df.input.durableClient()`. */
  clientInputData(bindingName: string): { name: string; data: RpcTypedData } {
    // The same for every invocation of this engine: its text (as the host sends it) is built once.
    this.clientDataText ??= this.buildClientInputData();
    return { name: bindingName, data: { string: this.clientDataText } };
  }

  private clientDataText: string | undefined;

  private buildClientInputData(): string {
    const base = this.webhookBase;
    const keyQuery = this.systemKey ? `code=${encodeURIComponent(this.systemKey)}` : "";
    const q = this.managementQuery();
    const instance = `${base}/instances/INSTANCEID`;
    const payload = {
      taskHubName: this.taskHub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${keyQuery}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${keyQuery}`,
      },
      managementUrls: { id: "INSTANCEID", ...managementUrls(instance, q), rewindPostUri: `${instance}/rewind?reason={text}&${q}` },
      baseUrl: base,
      requiredQueryStringParameters: keyQuery,
      // The client prefers this endpoint for every call; the real one is a loopback-only listener.
      rpcBaseUrl: this.systemKey ? `${base}/${this.rpcSegment}/` : `${base}/`,
      httpBaseUrl: base,
    };
    return JSON.stringify(payload);
  }

  // ------------------------------------------------------------------------------------------------
  // Scheduling

  private assertRunning(): void {
    if (!this.started) throw new Error("DurableEngine.start() has not been called");
    if (this.stopped) throw new Error("DurableEngine is stopped");
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Runs fn after every earlier piece of work on the same instance. */
  private withInstance<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(id, tail);
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return this.track(run);
  }

  /** Makes sure an episode will run for the instance (one queued episode at most). */
  private kick(id: string): void {
    if (this.stopped || this.episodeQueued.has(id)) return;
    this.episodeQueued.add(id);
    this.withInstance(id, async () => {
      this.episodeQueued.delete(id);
      if (this.stopped) return;
      await this.orchestrations.run(() => this.runEpisode(id));
      this.episodeErrors.delete(id);
    }).catch((err: unknown) => {
      if (this.stopped) return; // its messages are still queued in Redis for the next engine
      // Nothing was committed, so the queued messages are intact: retry a few times (Redis hiccups), then
      // leave them queued until the next message for the instance or the next engine start.
      const attempts = (this.episodeErrors.get(id) ?? 0) + 1;
      this.episodeErrors.set(id, attempts);
      const retry = attempts < MAX_EPISODE_RETRIES;
      this.log(
        "error",
        `episode of instance '${id}' failed (attempt ${attempts}${retry ? ", retrying" : ", giving up for now"}): ${(err as Error)?.stack ?? err}`,
      );
      if (retry) setTimeout(() => this.kick(id), RETRY_AFTER_ERROR_MS * attempts).unref();
      else this.episodeErrors.delete(id);
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Episodes

  /**
   * One episode: read queue + instance + history, run the orchestrator, commit the outcome. Kept as one
   * function (about 120 lines) on purpose: the order of read, replay, determinism check and the single
   * atomic commit IS the extension's episode contract, and split across helpers it stops being readable as one.
   */
  private async runEpisode(instanceId: string): Promise<void> {
    const { queue, record: rec, history } = await this.store.readEpisode(instanceId);
    if (queue.length === 0) return;
    if (!rec || isTerminal(rec.runtimeStatus)) {
      await this.store.trimQueue(instanceId, queue.length);
      return;
    }
    const summary = summarize(history);
    const now = new Date();
    const ts = now.toISOString();
    const incoming: HistoryEvent[] = [];
    let terminateReason: string | undefined;
    let startedNow = false;
    const seenResults = new Set<number>();
    for (const msg of queue) {
      switch (msg.type) {
        case "ExecutionStarted":
          if (msg.executionId === rec.executionId && !summary.started && !startedNow) {
            incoming.push(events.executionStarted(ts, msg.name, msg.input, instanceId, msg.executionId));
            startedNow = true;
          }
          break;
        case "EventRaised":
          incoming.push(events.eventRaised(ts, msg.name, msg.input));
          break;
        case "TaskCompleted":
        case "TaskFailed":
        case "TimerFired": {
          const id = msg.type === "TimerFired" ? msg.timerId : msg.taskId;
          // Stale (older execution), unknown or duplicate results are dropped, as the extension does.
          if (msg.executionId !== rec.executionId || !summary.scheduled[id] || summary.finished.has(id) || seenResults.has(id)) break;
          seenResults.add(id);
          if (msg.type === "TaskCompleted") incoming.push(events.taskCompleted(ts, id, msg.result));
          else if (msg.type === "TaskFailed") incoming.push(events.taskFailed(ts, id, msg.reason, msg.details));
          else incoming.push(events.timerFired(ts, id, msg.fireAt));
          break;
        }
        case "Terminate":
          terminateReason ??= msg.reason;
          break;
      }
    }

    if (terminateReason !== undefined) {
      await this.finishWithoutOrchestrator(rec, queue.length, incoming, terminateReason, ts, this.unfiredTimers(rec, summary, seenResults));
      return;
    }
    if (incoming.length === 0 || (!summary.started && !startedNow)) {
      // Nothing the orchestrator needs to see (duplicates, stale results), or not started yet.
      if (summary.started || startedNow) await this.store.trimQueue(instanceId, queue.length);
      return;
    }

    const newEvents = [events.orchestratorStarted(ts), ...incoming];
    const fullHistory = [...history.map((e) => ({ ...e, IsPlayed: true })), ...newEvents];
    this.counters.orchestratorEpisodes++;
    const outcome = await this.invokeOrchestrator(rec, fullHistory, history.length > 0, summary.scheduled);
    const commit: EpisodeCommit = {
      instanceId,
      consumed: queue.length,
      newEvents,
      record: { lastUpdatedTime: ts },
      addTimers: [],
      removeTimers: [],
      addActivities: [],
      finished: false,
    };
    if (outcome.customStatus !== undefined) commit.record.customStatus = JSON.stringify(outcome.customStatus);

    if (outcome.kind === "failed") {
      commit.newEvents.push(events.executionCompleted(ts, "Failed", JSON.stringify(outcome.message)));
      commit.record.runtimeStatus = "Failed";
      commit.record.output = JSON.stringify(outcome.message);
      commit.finished = true;
      commit.removeTimers = this.unfiredTimers(rec, summary, seenResults);
    } else {
      for (const p of outcome.planned) {
        if (!p.isNew) continue;
        if (p.kind === "activity") {
          commit.newEvents.push(events.taskScheduled(ts, p.id, p.name, p.input));
          if (outcome.kind === "continue") {
            commit.addActivities.push({
              field: activityField(instanceId, rec.executionId, p.id),
              instanceId,
              executionId: rec.executionId,
              taskId: p.id,
              name: p.name,
              input: p.input,
            });
          }
        } else {
          commit.newEvents.push(events.timerCreated(ts, p.id, p.fireAt));
          if (outcome.kind === "continue" && !p.isCanceled) {
            commit.addTimers.push({ member: timerMember(instanceId, rec.executionId, p.id), fireAtMs: Date.parse(p.fireAt) });
          }
        }
      }
      if (outcome.kind === "completed") {
        const output = outcome.output === undefined ? undefined : JSON.stringify(outcome.output);
        commit.newEvents.push(events.executionCompleted(ts, "Completed", output));
        commit.record.runtimeStatus = "Completed";
        if (output !== undefined) commit.record.output = output;
        commit.finished = true;
        commit.removeTimers = this.unfiredTimers(rec, summary, seenResults);
      } else {
        commit.record.runtimeStatus = "Running";
        // A timer the code cancelled (timer.cancel() after Task.any) must not fire and cost an episode.
        commit.removeTimers = outcome.planned
          .filter((p) => p.kind === "timer" && p.isCanceled && !p.isNew && !summary.finished.has(p.id) && !seenResults.has(p.id))
          .map((p) => timerMember(instanceId, rec.executionId, p.id));
      }
    }
    commit.newEvents.push(events.orchestratorCompleted(ts));
    await this.store.commitEpisode(commit);
    this.log(
      "debug",
      `episode ${rec.name}/${instanceId}: ${outcome.kind}` +
        (outcome.kind === "failed" ? ` (${outcome.message})` : `, ${commit.addActivities.length} activities, ${commit.addTimers.length} timers scheduled`),
    );

    for (const a of commit.addActivities) this.dispatchActivity(a);
    for (const t of commit.addTimers) this.noteTimer(t.fireAtMs);
  }

  /** Timers of the history that neither fired before nor fire in this episode (`seen`): to drop when the instance finishes. */
  private unfiredTimers(rec: InstanceRecord, summary: HistorySummary, seen: Set<number>): string[] {
    return summary.scheduled
      .filter((e) => e.EventType === EventType.TimerCreated && !summary.finished.has(e.EventId) && !seen.has(e.EventId))
      .map((e) => timerMember(rec.instanceId, rec.executionId, e.EventId));
  }

  private async finishWithoutOrchestrator(
    rec: InstanceRecord,
    consumed: number,
    incoming: HistoryEvent[],
    reason: string,
    ts: string,
    removeTimers: string[],
  ): Promise<void> {
    const output = JSON.stringify(reason);
    await this.store.commitEpisode({
      instanceId: rec.instanceId,
      consumed,
      newEvents: [
        events.orchestratorStarted(ts),
        ...incoming,
        events.executionTerminated(ts, reason),
        events.executionCompleted(ts, "Terminated", output),
        events.orchestratorCompleted(ts),
      ],
      record: { runtimeStatus: "Terminated", output, lastUpdatedTime: ts },
      addTimers: [],
      removeTimers,
      addActivities: [],
      finished: true,
    });
  }

  /**
   * `scheduled`: the history's scheduling events by task id (see summarize), for the determinism check.
   * Long for one reason: it builds the host's exact orchestrationTrigger payload and maps every action type
   * the library can answer onto history in one switch, so the mapping can be checked against DESIGN 4 at a glance.
   */
  private async invokeOrchestrator(rec: InstanceRecord, history: HistoryEvent[], isReplaying: boolean, scheduled: HistoryEvent[]): Promise<EpisodeOutcome> {
    const name = rec.name;
    let reg: Registration;
    try {
      reg = this.core.get(name);
    } catch {
      return { kind: "failed", message: `The orchestrator function '${name}' is not registered in this app.` };
    }
    const payload = {
      history,
      input: rec.input === undefined ? null : JSON.parse(rec.input),
      instanceId: rec.instanceId,
      isReplaying,
      parentInstanceId: null,
      upperSchemaVersion: UPPER_SCHEMA_VERSION,
      upperSchemaVersionNew: UPPER_SCHEMA_VERSION_NEW,
      longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL,
      maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
      defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_MS,
    };
    const slot: { functionName: string; result?: unknown } = { functionName: name };
    this.captures.set(rec.instanceId, slot);
    let state: { isDone?: boolean; actions?: unknown; output?: unknown; error?: string; customStatus?: unknown };
    try {
      const response = await this.core.invoke(name, { inputData: [{ name: reg.trigger.name, data: { string: JSON.stringify(payload) } }] });
      state = parseReturnValue(response.returnValue) as typeof state;
    } catch (err) {
      // durable-functions reports a failing orchestrator as an error whose message carries the
      // orchestrator state after a label; the user's error message is that state's `error`.
      const text = err instanceof Error ? err.message : String(err);
      const at = text.indexOf(OUT_OF_PROC_DATA_LABEL);
      let message = at >= 0 ? text.slice(0, at) : text;
      let customStatus: unknown;
      if (at >= 0) {
        try {
          const failedState = JSON.parse(text.slice(at + OUT_OF_PROC_DATA_LABEL.length)) as { customStatus?: unknown; error?: unknown };
          customStatus = failedState.customStatus;
          if (typeof failedState.error === "string" && failedState.error) message = failedState.error;
        } catch {
          customStatus = undefined;
        }
      }
      return { kind: "failed", message: `Orchestrator function '${name}' failed: ${message}`, customStatus };
    } finally {
      this.captures.delete(rec.instanceId);
    }
    if (!state || typeof state !== "object" || !("actions" in state)) {
      return { kind: "failed", message: `Orchestrator function '${name}' did not return an orchestrator state (is it registered with df.app.orchestration?).` };
    }
    const live = slot.result as { actions?: unknown } | undefined;
    const yields = topLevelYields(live && typeof live === "object" && "actions" in live ? live.actions : state.actions);
    const plan = planEpisode(name, yields, history, scheduled);
    if (!plan.ok) {
      this.log("warn", plan.message);
      return { kind: "failed", message: plan.message, customStatus: state.customStatus };
    }
    if (state.isDone) return { kind: "completed", planned: plan.planned, output: state.output, customStatus: state.customStatus };
    return { kind: "continue", planned: plan.planned, customStatus: state.customStatus };
  }

  // ------------------------------------------------------------------------------------------------
  // Activities

  private dispatchActivity(a: PendingActivity): void {
    if (this.stopped) return;
    const work = this.activities.run(async () => {
      if (this.stopped) return;
      const rec = await this.store.getInstance(a.instanceId);
      if (!rec || rec.executionId !== a.executionId || isTerminal(rec.runtimeStatus)) {
        await this.store.dropActivity(a.field); // its orchestration is gone or finished
        return;
      }
      const msg = await this.invokeActivity(a);
      if (this.stopped) return; // the entry stays in Redis; the next engine runs the activity again
      if (await this.store.completeActivity(a.instanceId, a.field, msg)) this.kick(a.instanceId);
    });
    this.track(work).catch((err: unknown) => {
      if (this.stopped) return; // the activity entry is still in Redis for the next engine
      this.log("error", `activity '${a.name}' of instance '${a.instanceId}' could not be reported, retrying: ${(err as Error)?.message ?? err}`);
      setTimeout(() => this.dispatchActivity(a), RETRY_AFTER_ERROR_MS).unref();
    });
  }

  private async invokeActivity(a: PendingActivity): Promise<QueueMessage> {
    const reg = this.core.registrations.get(a.name);
    if (!reg || reg.trigger.type !== "activityTrigger") {
      return {
        type: "TaskFailed",
        executionId: a.executionId,
        taskId: a.taskId,
        reason: `Activity function '${a.name}' failed: The function '${a.name}' doesn't exist or is not an activity function.`,
        details: "",
      };
    }
    this.counters.activityInvocations++;
    try {
      // The host hands the activity its input as JSON; `null` when the orchestrator passed none.
      const response = await this.core.invoke(a.name, { inputData: [{ name: reg.trigger.name, data: { json: a.input ?? "null" } }] });
      return { type: "TaskCompleted", executionId: a.executionId, taskId: a.taskId, result: resultToJsonText(response.returnValue) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      return {
        type: "TaskFailed",
        executionId: a.executionId,
        taskId: a.taskId,
        reason: `Activity function '${a.name}' failed: ${e.message}`,
        details: e.stack ?? "",
      };
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Timers

  private noteTimer(fireAtMs: number): void {
    if (!this.stopped) this.armWake(fireAtMs);
  }

  /**
   * Arms the single wake-up for `atMs` unless one is already armed earlier. Never disarms: a wake-up
   * that finds nothing due simply re-arms for the next timer, so no timer can be missed.
   */
  private armWake(atMs: number): void {
    const now = Date.now();
    const at = Math.max(now, Math.min(atMs, now + MAX_WAKE_DELAY_MS));
    if (at >= this.wakeAt) return;
    if (this.wakeHandle) clearTimeout(this.wakeHandle);
    this.wakeAt = at;
    this.wakeHandle = setTimeout(() => {
      this.wakeHandle = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.fireDueTimers();
    }, at - now);
    this.wakeHandle.unref();
  }

  private async scheduleWake(): Promise<void> {
    if (this.stopped) return;
    const next = await this.store.nextTimerAt();
    if (next !== undefined) this.armWake(next);
  }

  private async fireDueTimers(): Promise<void> {
    if (this.stopped) return;
    if (this.firing) {
      this.fireAgain = true;
      return;
    }
    this.firing = true;
    try {
      do {
        this.fireAgain = false;
        let batch: { member: string; fireAtMs: number }[];
        do {
          batch = await this.store.dueTimers(Date.now(), TIMER_BATCH);
          if (this.stopped) return;
          // Issued together, so node-redis pipelines the whole batch in one round trip.
          await Promise.all(
            batch.map(async (t) => {
              const [instanceId, executionId, timerId] = JSON.parse(t.member) as [string, string, number];
              const msg: QueueMessage = { type: "TimerFired", executionId, timerId, fireAt: new Date(t.fireAtMs).toISOString() };
              if (await this.store.fireTimer(instanceId, t.member, msg)) this.kick(instanceId);
            }),
          );
        } while (batch.length === TIMER_BATCH);
      } while (this.fireAgain);
      await this.scheduleWake();
    } catch (err) {
      this.log("error", `timer scheduler: ${(err as Error)?.message ?? err}`);
      if (!this.stopped) this.armWake(Date.now() + RETRY_AFTER_ERROR_MS);
    } finally {
      this.firing = false;
    }
  }
}

/** The storage providers reject ids with these characters (Azure Storage table keys) or over 256 characters. */
function isValidInstanceId(id: string): boolean {
  // eslint-disable-next-line no-control-regex
  return id.length > 0 && id.length <= 256 && !/[/\\#?\u0000-\u001f\u007f]/.test(id);
}

function parseReturnValue(rv: RpcTypedData | null | undefined): unknown {
  if (!rv) return undefined;
  const v = rv as Record<string, unknown>;
  if (typeof v.json === "string") return JSON.parse(v.json);
  if (typeof v.string === "string") {
    try {
      return JSON.parse(v.string);
    } catch {
      return v.string;
    }
  }
  return undefined;
}

/** An activity's return value as the JSON text TaskCompleted.Result carries. */
function resultToJsonText(rv: RpcTypedData | null | undefined): string {
  if (!rv) return "null";
  const v = rv as Record<string, unknown>;
  if (typeof v.json === "string") return v.json;
  if (typeof v.string === "string") return JSON.stringify(v.string);
  if (typeof v.int === "number") return String(v.int);
  if (typeof v.double === "number") return JSON.stringify(v.double);
  if (v.bytes instanceof Uint8Array) return JSON.stringify(Buffer.from(v.bytes).toString("base64"));
  return "null";
}

function keyEquals(given: string, key: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}
