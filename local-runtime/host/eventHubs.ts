/**
 * Event Hubs in process, with the delivery contract of the Functions Event Hub trigger:
 *
 * - one hub per name, N partitions; an event with a partition key always lands on the same partition,
 *   events without one are spread round-robin;
 * - each trigger function is a consumer with its own checkpoint per partition; it receives batches of up to
 *   host.json `extensions.eventHubs.maxEventBatchSize`, one batch at a time per partition, partitions in parallel;
 * - at least once: the checkpoint is stored in Redis after the batch, so a crash or restart redelivers the batch
 *   in flight;
 * - the Azure checkpoint rule: when the handler returns OR throws, the checkpoint advances - the batch is
 *   gone - unless the function has a retry policy (`retry` in its registration), in which case the batch is
 *   retried per the policy (fixedDelay / exponentialBackoff, maxRetryCount, -1 = forever) before advancing.
 *
 * Events live in Redis streams `<prefix>:eh:{<hub>:<partition>}` (the hash tag keeps a partition's keys in one
 * slot), with the checkpoint of each consumer beside them, so `npm start` resumes where it stopped.
 */
import { createClient } from "redis";
import { evalWithFallback } from "../../src/store/connection";
import type { Registration, RpcTypedData, InvokeRequest } from "../functionsCore";
import type { EventPublisher, OutgoingEvent } from "../../src/messaging/eventPublisher";
import type { Invoker } from "./invoker";

/** The app's publisher contract (src/messaging/eventPublisher), which the local runtime installs into the app. */
export type EventPublisherLike = EventPublisher;

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

/** One event as stored. */
interface StoredEvent {
  id: string;
  seq: number;
  body: string;
  partitionKey: string | null;
  properties: Record<string, string>;
  enqueuedMs: number;
}

export interface ConsumerSpec {
  functionName: string;
  hubName: string;
  consumerGroup: string;
  cardinality: "one" | "many";
  retry?: RetryPolicy;
}

export interface RetryPolicy {
  strategy: "fixedDelay" | "exponentialBackoff";
  maxRetryCount: number;
  delayMs: number;
  minMs: number;
  maxMs: number;
}

type RedisClient = ReturnType<typeof createClient>;

const APPEND_SCRIPT = `
local ids = {}
for i = 1, #ARGV, 4 do
  local seq = redis.call('INCR', KEYS[2])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'seq', seq, 'body', ARGV[i], 'pk', ARGV[i + 1], 'props', ARGV[i + 2], 't', ARGV[i + 3])
end
return ids`;

/** FNV-1a: a stable hash so a partition key always maps to the same partition. */
export function partitionForKey(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export function retryPolicyOf(reg: Registration): RetryPolicy | undefined {
  const r = reg.metadata.retryOptions;
  if (!r || r.maxRetryCount === undefined) return undefined;
  const ms = (d: unknown): number => {
    if (d && typeof d === "object") {
      const o = d as { seconds?: number | string; nanos?: number };
      return Number(o.seconds ?? 0) * 1000 + Math.round(Number(o.nanos ?? 0) / 1e6);
    }
    return typeof d === "number" ? d : 0;
  };
  const strategy = /exponential/i.test(String(r.retryStrategy ?? "")) ? "exponentialBackoff" : "fixedDelay";
  return { strategy, maxRetryCount: Number(r.maxRetryCount), delayMs: ms(r.delayInterval), minMs: ms(r.minimumInterval), maxMs: ms(r.maximumInterval) };
}

export function retryDelayMs(p: RetryPolicy, attempt: number): number {
  if (p.strategy === "fixedDelay") return p.delayMs;
  const d = p.minMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(p.maxMs || d, d);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LocalEventHubs {
  readonly partitions: number;
  readonly maxBatch: number;
  readonly checkpointEvery: number;
  private readonly pollMs: number;
  private client: RedisClient | undefined;
  private appendSha: string | undefined;
  private readonly rr = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly loops: Promise<void>[] = [];
  private readonly consumers: ConsumerSpec[] = [];
  /** The last checkpoint stored per checkpoint key, to trim streams without reading them back. */
  private readonly checkpoints = new Map<string, string>();
  private running = false;
  private readonly stopWaiters = new Set<() => void>();
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
    private readonly invoker?: Invoker,
  ) {
    this.partitions = opts.partitions ?? 4;
    this.maxBatch = opts.maxEventBatchSize ?? 100;
    this.checkpointEvery = Math.max(1, opts.batchCheckpointFrequency ?? 1);
    this.pollMs = opts.pollIntervalMs ?? 1000;
  }

  private streamKey(hub: string, p: number): string {
    return `${this.opts.prefix}:eh:{${hub}:${p}}`;
  }
  private checkpointKey(hub: string, p: number, fn: string): string {
    return `${this.streamKey(hub, p)}:ckpt:${fn}`;
  }

  async connect(): Promise<void> {
    if (this.client) return;
    const client = createClient({ url: this.opts.redisUrl });
    client.on("error", (err: Error) => this.opts.log?.(`event hubs redis: ${err.message}`));
    await client.connect();
    this.client = client;
    this.appendSha = String(await client.sendCommand(["SCRIPT", "LOAD", APPEND_SCRIPT]));
  }

  private redis(): RedisClient {
    if (!this.client) throw new Error("LocalEventHubs is not connected");
    return this.client;
  }

  /** Appends to the partitions' streams and wakes their consumers (what the app's publisher does locally). */
  async send(hub: string, events: OutgoingEvent[]): Promise<void> {
    if (!events.length) return;
    const byPartition = new Map<number, OutgoingEvent[]>();
    for (const e of events) {
      let p: number;
      if (e.partitionKey) p = partitionForKey(e.partitionKey, this.partitions);
      else {
        p = (this.rr.get(hub) ?? 0) % this.partitions;
        this.rr.set(hub, p + 1);
      }
      const list = byPartition.get(p) ?? [];
      list.push(e);
      byPartition.set(p, list);
    }
    const now = Date.now();
    await Promise.all(
      [...byPartition].map(async ([p, list]) => {
        const args: string[] = [];
        for (const e of list) {
          const body = typeof e.body === "string" ? e.body : Buffer.isBuffer(e.body) ? e.body.toString("utf8") : JSON.stringify(e.body);
          args.push(body, e.partitionKey ?? "", JSON.stringify(e.properties ?? {}), String(now));
        }
        const keys = [this.streamKey(hub, p), `${this.streamKey(hub, p)}:seq`];
        await evalWithFallback((cmd) => this.redis().sendCommand(cmd), this.appendSha!, APPEND_SCRIPT, keys, args);
        this.wake(hub, p);
      }),
    );
    this.published.set(hub, (this.published.get(hub) ?? 0) + events.length);
  }

  private wake(hub: string, p: number): void {
    const set = this.waiters.get(`${hub}/${p}`);
    if (!set) return;
    for (const w of [...set]) w();
  }

  private waitForEvents(hub: string, p: number): Promise<void> {
    return new Promise((resolve) => {
      const key = `${hub}/${p}`;
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      set.add(done);
    });
  }

  private async read(hub: string, p: number, after: string, count: number): Promise<StoredEvent[]> {
    const raw = (await this.redis().sendCommand(["XRANGE", this.streamKey(hub, p), after === "0" ? "-" : `(${after}`, "+", "COUNT", String(count)])) as [
      string,
      string[],
    ][];
    return raw.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        id,
        seq: Number(f.seq),
        body: f.body ?? "",
        partitionKey: f.pk ? f.pk : null,
        properties: f.props ? (JSON.parse(f.props) as Record<string, string>) : {},
        enqueuedMs: Number(f.t),
      };
    });
  }

  /** Whether any consumer has an event on any partition that it has not checkpointed yet (all partitions at once). */
  private async hasBacklog(): Promise<boolean> {
    const checks: Promise<boolean>[] = [];
    for (const c of this.consumers) {
      for (let p = 0; p < this.partitions; p++) {
        const ckptKey = this.checkpointKey(c.hubName, p, c.functionName);
        checks.push(
          this.redis()
            .get(ckptKey)
            .then(async (ckpt) => (await this.read(c.hubName, p, String(ckpt ?? "0"), 1)).length > 0),
        );
      }
    }
    return (await Promise.all(checks)).some(Boolean);
  }

  /**
   * Stores a consumer's checkpoint and, in the same MULTI/EXEC (one round trip, all or nothing), trims what
   * every consumer of the hub has checkpointed past: an event is never trimmed unless the checkpoints that
   * make it safe to trim are stored. Memory follows Redis only after the write succeeded.
   */
  private async checkpoint(spec: ConsumerSpec, p: number, position: string): Promise<void> {
    const ckptKey = this.checkpointKey(spec.hubName, p, spec.functionName);
    const tx = this.redis().multi().set(ckptKey, position);
    const min = this.trimPoint(spec.hubName, p, ckptKey, position);
    // MINID keeps entries >= min: the checkpointed one stays too, harmless.
    if (min) tx.addCommand(["XTRIM", this.streamKey(spec.hubName, p), "MINID", "~", min]);
    await tx.exec();
    this.checkpoints.set(ckptKey, position);
  }

  /**
   * The lowest checkpoint of all consumers of a hub's partition, with `ckptKey` at `position`; undefined while
   * some consumer has none. The checkpoints are this process's own (one `npm start` per key prefix), so they
   * are read from memory.
   */
  private trimPoint(hub: string, p: number, ckptKey: string, position: string): string | undefined {
    const ckpts = this.consumers
      .filter((c) => c.hubName === hub)
      .map((c) => this.checkpointKey(hub, p, c.functionName))
      .map((k) => (k === ckptKey ? position : this.checkpoints.get(k)));
    if (!ckpts.length || ckpts.some((c) => !c)) return undefined;
    return (ckpts as string[]).sort(compareIds)[0];
  }

  addConsumer(spec: ConsumerSpec): void {
    this.consumers.push(spec);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.crashed = false;
    for (const spec of this.consumers) for (let p = 0; p < this.partitions; p++) this.loops.push(this.consume(spec, p));
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
    for (const set of this.waiters.values()) for (const w of [...set]) w();
    for (const w of [...this.stopWaiters]) w();
    await Promise.all(this.loops.splice(0));
    await this.client?.quit().catch(() => undefined);
    this.client = undefined;
  }

  /** Abrupt stop, as a crashed host: batches in flight are not checkpointed and will be delivered again. */
  async crash(): Promise<void> {
    this.crashed = true;
    await this.stop();
  }

  private async consume(spec: ConsumerSpec, p: number): Promise<void> {
    const ckptKey = this.checkpointKey(spec.hubName, p, spec.functionName);
    const stored = await this.redis().get(ckptKey);
    if (stored) this.checkpoints.set(ckptKey, String(stored));
    let position = String(stored ?? "0");
    let sinceCheckpoint = 0;
    while (this.running) {
      let batch: StoredEvent[];
      try {
        batch = await this.read(spec.hubName, p, position, spec.cardinality === "one" ? 1 : this.maxBatch);
      } catch (err) {
        if (!this.running) break;
        this.opts.log?.(`[${spec.functionName}] partition ${p}: read failed: ${(err as Error).message}`);
        await sleep(this.pollMs);
        continue;
      }
      if (!batch.length) {
        if (sinceCheckpoint > 0) {
          await this.checkpoint(spec, p, position);
          sinceCheckpoint = 0;
        }
        await this.waitForEvents(spec.hubName, p);
        continue;
      }
      this.inFlight++;
      let done: boolean;
      try {
        done = await this.deliver(spec, p, batch);
        if (done && this.invoker?.faults.takeDuplicate(spec.functionName)) done = await this.deliver(spec, p, batch);
      } finally {
        this.inFlight--;
      }
      // Not done: the runtime stopped while the batch was failing or in flight - no checkpoint, redelivered later.
      if (this.crashed || !done) break;
      position = batch[batch.length - 1]!.id;
      if (++sinceCheckpoint >= this.checkpointEvery) {
        await this.checkpoint(spec, p, position);
        sinceCheckpoint = 0;
      }
    }
    if (!this.crashed && sinceCheckpoint > 0) await this.checkpoint(spec, p, position).catch(() => undefined);
  }

  /** One batch, with the retry policy if there is one; true when the checkpoint may advance past it. */
  private async deliver(spec: ConsumerSpec, p: number, batch: StoredEvent[]): Promise<boolean> {
    const stat = this.delivered.get(spec.functionName) ?? { batches: 0, events: 0 };
    stat.batches++;
    stat.events += batch.length;
    this.delivered.set(spec.functionName, stat);
    const request = this.toRequest(spec, p, batch);
    const max = spec.retry?.maxRetryCount ?? 0;
    for (let attempt = 0; ; attempt++) {
      if (this.crashed) return false;
      try {
        const req = spec.retry ? { ...request, retryContext: { retryCount: attempt, maxRetryCount: max } } : request;
        await this.invoker!.invoke(spec.functionName, req, (r) => this.truncate(spec, p, batch, r));
        return true;
      } catch (err) {
        const willRetry = spec.retry && (max === -1 || attempt < max);
        this.opts.log?.(
          `[${spec.functionName}] partition ${p}: batch of ${batch.length} failed: ${(err as Error).message}` +
            (willRetry ? ` - retry ${attempt + 1}${max === -1 ? "" : `/${max}`}` : " - checkpoint advances (no retry policy left), as on Azure"),
        );
        if (!willRetry) {
          this.dropped.set(spec.functionName, (this.dropped.get(spec.functionName) ?? 0) + 1);
          return true;
        }
        if (!this.running) return false;
        await this.sleepUnlessStopped(retryDelayMs(spec.retry!, attempt + 1));
        if (!this.running) return false;
      }
    }
  }

  private sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopWaiters.add(done);
    });
  }

  private truncate(spec: ConsumerSpec, p: number, batch: StoredEvent[], full: InvokeRequest): InvokeRequest {
    const half = this.toRequest(spec, p, batch.slice(0, Math.max(0, Math.floor(batch.length / 2))));
    return { ...full, inputData: [half.inputData![0]!, ...(full.inputData ?? []).slice(1)], triggerMetadata: half.triggerMetadata };
  }

  /** The trigger input and metadata in the shapes the host sends (PascalCase keys; the library camelCases them). */
  private toRequest(spec: ConsumerSpec, p: number, batch: StoredEvent[]): InvokeRequest {
    const parse = (s: string): unknown => {
      try {
        return JSON.parse(s);
      } catch {
        return s;
      }
    };
    const json = (v: unknown): RpcTypedData => ({ json: JSON.stringify(v) });
    const enqueued = (e: StoredEvent) => new Date(e.enqueuedMs).toISOString();
    const system = (e: StoredEvent) => ({
      "x-opt-sequence-number": e.seq,
      "x-opt-offset": e.id,
      "x-opt-enqueued-time": enqueued(e),
      ...(e.partitionKey !== null ? { "x-opt-partition-key": e.partitionKey } : {}),
      SequenceNumber: e.seq,
      Offset: e.id,
      PartitionKey: e.partitionKey,
      EnqueuedTimeUtc: enqueued(e),
    });
    const partitionContext = {
      ConsumerGroup: spec.consumerGroup,
      EventHubName: spec.hubName,
      FullyQualifiedNamespace: this.opts.namespace ?? "local.servicebus.windows.net",
      PartitionId: String(p),
    };
    const trigger = this.invoker!.core.get(spec.functionName).trigger.name;
    if (spec.cardinality === "one") {
      const e = batch[0]!;
      return {
        inputData: [{ name: trigger, data: json(parse(e.body)) }],
        triggerMetadata: {
          PartitionContext: json(partitionContext),
          EnqueuedTimeUtc: json(enqueued(e)),
          SequenceNumber: json(e.seq),
          Offset: json(e.id),
          PartitionKey: json(e.partitionKey),
          Properties: json(e.properties),
          SystemProperties: json(system(e)),
        },
      };
    }
    return {
      inputData: [{ name: trigger, data: json(batch.map((e) => parse(e.body))) }],
      triggerMetadata: {
        PartitionContext: json(partitionContext),
        EnqueuedTimeUtcArray: json(batch.map(enqueued)),
        SequenceNumberArray: json(batch.map((e) => e.seq)),
        OffsetArray: json(batch.map((e) => e.id)),
        PartitionKeyArray: json(batch.map((e) => e.partitionKey)),
        PropertiesArray: json(batch.map((e) => e.properties)),
        SystemPropertiesArray: json(batch.map(system)),
      },
    };
  }
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}
