/**
 * Redis instance store of the local Durable runtime (one task hub).
 *
 * Keys, under `<prefix>:durable:<taskHub>:`:
 *   instance:<id>   hash   the instance record (status, input, output, custom status, times, executionId)
 *   history:<id>    list   committed history events (JSON), in order
 *   queue:<id>      list   messages not yet processed by an episode (JSON): start, events, results, timers, terminate
 *   timers          zset   pending durable timers, score = fire time (ms), member = [instanceId, executionId, timerId]
 *   activities      hash   activity calls scheduled but not yet reported back, field = [instanceId, executionId, taskId]
 *   running         set    instances that are Pending or Running (what a restarted engine resumes)
 *   instances       zset   every instance id, score = creation time (ms), for listing
 *
 * Every hand-over between parts (timer -> queue, activity result -> queue, client -> queue) is one atomic
 * script (local-runtime/lua/durable*.lua), so a crash leaves either the timer/activity entry or the queued message, never both or neither.
 * Meant for one engine per task hub at a time (the local runtime); not a multi-node store.
 */
import { createClient } from "redis";
import { runLocalScript } from "../scripts";
import type { HistoryEvent } from "./history";

export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated";

const TERMINAL_STATUSES: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

export function isTerminal(status: string | undefined): boolean {
  return TERMINAL_STATUSES.includes(status as RuntimeStatus);
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** JSON texts; absent when there is none. */
  input?: string;
  output?: string;
  customStatus?: string;
  createdTime: string;
  lastUpdatedTime: string;
}

/** Messages waiting for the instance's next episode. */
export type QueueMessage =
  | { type: "ExecutionStarted"; executionId: string; name: string; input?: string }
  | { type: "EventRaised"; name: string; input?: string }
  | { type: "TaskCompleted"; executionId: string; taskId: number; result: string }
  | { type: "TaskFailed"; executionId: string; taskId: number; reason: string; details: string }
  | { type: "TimerFired"; executionId: string; timerId: number; fireAt: string }
  | { type: "Terminate"; reason: string };

/** Result of handing a message to an instance. */
export type EnqueueResult = "notFound" | "finished" | "queued";

export function timerMember(instanceId: string, executionId: string, timerId: number): string {
  return JSON.stringify([instanceId, executionId, timerId]);
}

export function activityField(instanceId: string, executionId: string, taskId: number): string {
  return JSON.stringify([instanceId, executionId, taskId]);
}

export interface PendingActivity {
  field: string;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: string | undefined;
}

/** Everything one episode writes, applied in one MULTI/EXEC. */
export interface EpisodeCommit {
  instanceId: string;
  /** How many queue messages the episode consumed (from the head). */
  consumed: number;
  newEvents: HistoryEvent[];
  record: Partial<Omit<InstanceRecord, "instanceId">>;
  /** Record fields to delete (e.g. a custom status cleared). */
  clearFields?: string[];
  addTimers: { member: string; fireAtMs: number }[];
  removeTimers: string[];
  addActivities: PendingActivity[];
  finished: boolean;
}

type Client = ReturnType<typeof createClient>;

export class DurableStore {
  readonly client: Client;
  private readonly base: string;

  constructor(redisUrl: string, prefix: string, taskHub: string) {
    this.client = createClient({ url: redisUrl });
    this.base = `${prefix}:durable:${taskHub}:`;
  }

  key = {
    instance: (id: string) => `${this.base}instance:${id}`,
    history: (id: string) => `${this.base}history:${id}`,
    queue: (id: string) => `${this.base}queue:${id}`,
    timers: () => `${this.base}timers`,
    activities: () => `${this.base}activities`,
    running: () => `${this.base}running`,
    instances: () => `${this.base}instances`,
  };

  async connect(onError: (err: unknown) => void): Promise<void> {
    this.client.on("error", onError);
    await this.client.connect();
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  private readonly send = (args: string[]) => this.client.sendCommand(args);

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    return parseRecord(await this.client.hGetAll(this.key.instance(id)));
  }

  async getInstances(ids: string[]): Promise<(InstanceRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const multi = this.client.multi();
    for (const id of ids) multi.hGetAll(this.key.instance(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    return rows.map(parseRecord);
  }

  async listInstanceIds(): Promise<string[]> {
    return this.client.zRange(this.key.instances(), 0, -1);
  }

  /** What an episode starts from, in one round trip: the queued messages, the record and the committed history. */
  async readEpisode(id: string): Promise<{ queue: QueueMessage[]; record: InstanceRecord | undefined; history: HistoryEvent[] }> {
    const k = this.key;
    const [queue, record, history] = (await this.client
      .multi()
      .lRange(k.queue(id), 0, -1)
      .hGetAll(k.instance(id))
      .lRange(k.history(id), 0, -1)
      .exec()) as unknown as [string[], Record<string, string>, string[]];
    return {
      queue: queue.map((m) => JSON.parse(m) as QueueMessage),
      record: parseRecord(record),
      history: history.map((e) => JSON.parse(e) as HistoryEvent),
    };
  }

  async trimQueue(id: string, consumed: number): Promise<void> {
    await this.client.lTrim(this.key.queue(id), consumed, -1);
  }

  async readHistory(id: string): Promise<HistoryEvent[]> {
    const raw = await this.client.lRange(this.key.history(id), 0, -1);
    return raw.map((e) => JSON.parse(e) as HistoryEvent);
  }

  /** true when created; otherwise the runtimeStatus of the execution still active (nothing changed). */
  async createInstance(id: string, name: string, executionId: string, input: string | undefined, now: Date): Promise<true | string> {
    const msg: QueueMessage = { type: "ExecutionStarted", executionId, name, input };
    const k = this.key;
    const created = await runLocalScript(
      this.send,
      "durableCreateInstance",
      [k.instance(id), k.history(id), k.queue(id), k.running(), k.instances()],
      [id, name, executionId, input ?? "", now.toISOString(), String(now.getTime()), JSON.stringify(msg)],
    );
    return created === 1 ? true : created;
  }

  async enqueueIfActive(id: string, msg: QueueMessage): Promise<EnqueueResult> {
    const r = await runLocalScript(this.send, "durableEnqueueIfActive", [this.key.instance(id), this.key.queue(id)], [JSON.stringify(msg)]);
    return r === 0 ? "notFound" : r === 2 ? "finished" : "queued";
  }

  async fireTimer(instanceId: string, member: string, msg: QueueMessage): Promise<boolean> {
    const k = this.key;
    const r = await runLocalScript(this.send, "durableFireTimer", [k.instance(instanceId), k.queue(instanceId), k.timers()], [member, JSON.stringify(msg)]);
    return r === 1;
  }

  async completeActivity(instanceId: string, field: string, msg: QueueMessage): Promise<boolean> {
    const k = this.key;
    const r = await runLocalScript(
      this.send,
      "durableCompleteActivity",
      [k.instance(instanceId), k.queue(instanceId), k.activities()],
      [field, JSON.stringify(msg)],
    );
    return r === 1;
  }

  async dueTimers(nowMs: number, max: number): Promise<{ member: string; fireAtMs: number }[]> {
    const rows = await this.client.zRangeByScoreWithScores(this.key.timers(), "-inf", nowMs, { LIMIT: { offset: 0, count: max } });
    return rows.map((r) => ({ member: String(r.value), fireAtMs: r.score }));
  }

  async nextTimerAt(): Promise<number | undefined> {
    const rows = await this.client.zRangeWithScores(this.key.timers(), 0, 0);
    return rows[0]?.score;
  }

  async pendingActivities(): Promise<PendingActivity[]> {
    const all = await this.client.hGetAll(this.key.activities());
    return Object.entries(all).map(([field, value]) => {
      const [instanceId, executionId, taskId] = JSON.parse(field) as [string, string, number];
      const { name, input } = JSON.parse(value) as { name: string; input?: string };
      return { field, instanceId, executionId, taskId, name, input };
    });
  }

  async dropActivity(field: string): Promise<void> {
    await this.client.hDel(this.key.activities(), field);
  }

  async runningIds(): Promise<string[]> {
    return this.client.sMembers(this.key.running());
  }

  async commitEpisode(c: EpisodeCommit): Promise<void> {
    const k = this.key;
    const multi = this.client.multi();
    if (c.newEvents.length)
      multi.rPush(
        k.history(c.instanceId),
        c.newEvents.map((e) => JSON.stringify(e)),
      );
    if (c.consumed > 0) multi.lTrim(k.queue(c.instanceId), c.consumed, -1);
    const fields = Object.fromEntries(Object.entries(c.record).filter(([, v]) => v !== undefined)) as Record<string, string>;
    if (Object.keys(fields).length) multi.hSet(k.instance(c.instanceId), fields);
    if (c.clearFields?.length) multi.hDel(k.instance(c.instanceId), c.clearFields);
    if (c.addTimers.length)
      multi.zAdd(
        k.timers(),
        c.addTimers.map((t) => ({ score: t.fireAtMs, value: t.member })),
      );
    if (c.removeTimers.length) multi.zRem(k.timers(), c.removeTimers);
    for (const a of c.addActivities) multi.hSet(k.activities(), a.field, JSON.stringify({ name: a.name, input: a.input }));
    if (c.finished) multi.sRem(k.running(), c.instanceId);
    await multi.exec();
  }

  /** Deletes a finished instance. Returns false if it does not exist. */
  async purge(id: string): Promise<boolean> {
    const k = this.key;
    const [deleted] = (await this.client
      .multi()
      .del(k.instance(id))
      .del([k.history(id), k.queue(id)])
      .zRem(k.instances(), id)
      .sRem(k.running(), id)
      .exec()) as unknown as number[];
    return Number(deleted) > 0;
  }
}

/** An instance hash as a record; undefined when the instance does not exist. */
function parseRecord(h: Record<string, string> | null | undefined): InstanceRecord | undefined {
  if (!h || !h.runtimeStatus || h.instanceId === undefined || h.name === undefined || h.executionId === undefined) return undefined;
  if (h.createdTime === undefined || h.lastUpdatedTime === undefined) return undefined;
  return {
    instanceId: h.instanceId,
    name: h.name,
    executionId: h.executionId,
    runtimeStatus: h.runtimeStatus as RuntimeStatus,
    input: h.input,
    output: h.output,
    customStatus: h.customStatus,
    createdTime: h.createdTime,
    lastUpdatedTime: h.lastUpdatedTime,
  };
}
