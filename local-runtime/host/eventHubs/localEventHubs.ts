/**
 * Event Hubs in process, with the delivery contract of the Functions Event Hub trigger: one hub per name,
 * N partitions (partitioning.ts), each trigger function a consumer with its own checkpoint per partition,
 * batches one at a time per partition and partitions in parallel (consumer.ts), events and checkpoints in
 * Redis streams (streams.ts). This class is the hubs as the runtime sees them: send, start, drain, stop, crash.
 */
import type { Invoker } from "../invoker";
import { consumePartition, type ConsumerHost, type ConsumerSpec } from "./consumer";
import { PartitionChooser } from "./partitioning";
import type { OutgoingEvent } from "./publisher";
import { PartitionSignals } from "./signals";
import { EventStreams } from "./streams";
import { setTimeout as sleep } from "node:timers/promises";

export interface EventHubOptions {
  redisUrl: string;
  prefix: string;
  partitions?: number;
  maxEventBatchSize?: number;
  batchCheckpointFrequency?: number;
  /** How often an idle consumer looks for events written by another process. */
  pollIntervalMs?: number;
  namespace?: string;
  log?: (msg: string) => void;
}

export class LocalEventHubs implements ConsumerHost {
  readonly partitions: number;
  readonly maxBatch: number;
  readonly checkpointEvery: number;
  readonly pollMs: number;
  readonly namespace: string;
  readonly streams: EventStreams;
  readonly signals = new PartitionSignals();
  private readonly chooser: PartitionChooser;
  private readonly loops: Promise<void>[] = [];
  private readonly consumers: ConsumerSpec[] = [];
  private running = false;
  /** Set by crash(): finish nothing, checkpoint nothing more (the in-flight batches are redelivered next start). */
  private crashed = false;
  private inFlight = 0;
  /** Batches delivered and events delivered, per function (duplicates included). */
  readonly delivered = new Map<string, { batches: number; events: number }>();
  readonly published = new Map<string, number>();
  /** Invocations that threw, per function, after retries. */
  readonly dropped = new Map<string, number>();

  constructor(
    private readonly opts: EventHubOptions,
    readonly invoker: Invoker,
  ) {
    this.partitions = opts.partitions ?? 4;
    this.maxBatch = opts.maxEventBatchSize ?? 100;
    this.checkpointEvery = Math.max(1, opts.batchCheckpointFrequency ?? 1);
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.namespace = opts.namespace ?? "local.servicebus.windows.net";
    this.chooser = new PartitionChooser(this.partitions);
    this.streams = new EventStreams(opts.redisUrl, opts.prefix, opts.log);
  }

  connect(): Promise<void> {
    return this.streams.connect();
  }

  /** Appends to the partitions' streams and wakes their consumers (what the app's publisher does locally). */
  async send(hub: string, events: OutgoingEvent[]): Promise<void> {
    if (!events.length) return;
    const byPartition = new Map<number, OutgoingEvent[]>();
    for (const e of events) {
      const p = this.chooser.choose(hub, e.partitionKey);
      const list = byPartition.get(p) ?? [];
      list.push(e);
      byPartition.set(p, list);
    }
    const now = Date.now();
    await Promise.all(
      [...byPartition].map(async ([p, list]) => {
        await this.streams.append(hub, p, list, now);
        this.signals.wake(hub, p);
      }),
    );
    this.published.set(hub, (this.published.get(hub) ?? 0) + events.length);
  }

  addConsumer(spec: ConsumerSpec): void {
    this.consumers.push(spec);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.crashed = false;
    for (const spec of this.consumers) for (let p = 0; p < this.partitions; p++) this.loops.push(consumePartition(this, spec, p));
  }

  /** Waits until every consumer has checkpointed everything published so far (or the timeout passes). */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.inFlight === 0 && !(await this.hasBacklog())) return true;
      await sleep(50);
    }
    return false;
  }

  /** Graceful stop: in-flight batches finish and are checkpointed. */
  async stop(): Promise<void> {
    this.running = false;
    this.signals.releaseAll();
    await Promise.all(this.loops.splice(0));
    await this.streams.close();
  }

  /** Abrupt stop, as a crashed host: batches in flight are not checkpointed and will be delivered again. */
  async crash(): Promise<void> {
    this.crashed = true;
    await this.stop();
  }

  /** Whether any consumer has an event on any partition that it has not checkpointed yet (all partitions at once). */
  private async hasBacklog(): Promise<boolean> {
    const checks: Promise<boolean>[] = [];
    for (const c of this.consumers) for (let p = 0; p < this.partitions; p++) checks.push(this.streams.hasEventsAfter(c.hubName, p, c.functionName));
    return (await Promise.all(checks)).some(Boolean);
  }

  // ConsumerHost
  isRunning(): boolean {
    return this.running;
  }
  isCrashed(): boolean {
    return this.crashed;
  }
  consumersOf(hub: string): string[] {
    return this.consumers.filter((c) => c.hubName === hub).map((c) => c.functionName);
  }
  noteDelivered(fn: string, events: number): void {
    const stat = this.delivered.get(fn) ?? { batches: 0, events: 0 };
    stat.batches++;
    stat.events += events;
    this.delivered.set(fn, stat);
  }
  noteDropped(fn: string): void {
    this.dropped.set(fn, (this.dropped.get(fn) ?? 0) + 1);
  }
  trackInFlight(delta: 1 | -1): void {
    this.inFlight += delta;
  }
  log(msg: string): void {
    this.opts.log?.(msg);
  }
}
