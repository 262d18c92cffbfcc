/**
 * One trigger function reading one partition: batches of up to maxEventBatchSize (one at a time), the
 * checkpoint stored after the batch (every batchCheckpointFrequency batches), and the Azure checkpoint rule:
 * when the handler returns OR throws, the checkpoint advances, unless the function has a retry policy, in
 * which case the batch is retried per the policy first. A stop while a batch fails or runs leaves it
 * uncheckpointed: it is delivered again (at least once).
 */
import type { InvokeRequest } from "../../functionsCore";
import type { Invoker } from "../invoker";
import { retryDelayMs, type RetryPolicy } from "./retryPolicy";
import type { PartitionSignals } from "./signals";
import type { EventStreams, StoredEvent } from "./streams";
import { triggerRequest, type TriggerTarget } from "./triggerInput";

export interface ConsumerSpec {
  functionName: string;
  hubName: string;
  consumerGroup: string;
  cardinality: "one" | "many";
  retry?: RetryPolicy;
}

/** What a consumer needs from the hubs it belongs to. */
export interface ConsumerHost {
  readonly streams: EventStreams;
  readonly signals: PartitionSignals;
  readonly invoker: Invoker;
  readonly maxBatch: number;
  readonly checkpointEvery: number;
  readonly pollMs: number;
  readonly namespace: string;
  /** False once stop() or crash() began. */
  isRunning(): boolean;
  /** True after crash(): nothing more is checkpointed. */
  isCrashed(): boolean;
  /** Function names of every consumer of the hub (for trimming). */
  consumersOf(hub: string): string[];
  noteDelivered(fn: string, events: number): void;
  noteDropped(fn: string): void;
  trackInFlight(delta: 1 | -1): void;
  log(msg: string): void;
}

export async function consumePartition(host: ConsumerHost, spec: ConsumerSpec, p: number): Promise<void> {
  const { streams } = host;
  let position = await streams.loadCheckpoint(spec.hubName, p, spec.functionName);
  let sinceCheckpoint = 0;
  const checkpoint = () => streams.checkpoint(spec.hubName, p, spec.functionName, position, host.consumersOf(spec.hubName));
  // The partition's wake count when the last read was issued: events appended while it was on its way woke nobody.
  let wakesAtRead = 0;
  const readNext = () => {
    wakesAtRead = host.signals.wakeCount(spec.hubName, p);
    return streams.read(spec.hubName, p, position, spec.cardinality === "one" ? 1 : host.maxBatch);
  };
  // The read after a checkpoint, issued with it: both reach Redis in one round trip (and run there in order).
  let prefetched: Promise<StoredEvent[]> | undefined;
  while (host.isRunning()) {
    let batch: StoredEvent[];
    try {
      batch = await (prefetched ?? readNext());
    } catch (err) {
      if (!host.isRunning()) break;
      host.log(`[${spec.functionName}] partition ${p}: read failed: ${(err as Error).message}`);
      await host.signals.sleepUnlessStopped(host.pollMs);
      continue;
    } finally {
      prefetched = undefined;
    }
    if (!batch.length) {
      if (sinceCheckpoint > 0) {
        await checkpoint();
        sinceCheckpoint = 0;
      }
      // Events came while the read was on its way: read again now rather than wait for the next wake (or the poll).
      if (host.signals.wakeCount(spec.hubName, p) !== wakesAtRead) continue;
      await host.signals.waitForEvents(spec.hubName, p, host.pollMs);
      continue;
    }
    host.trackInFlight(1);
    let done: boolean;
    try {
      done = await deliver(host, spec, p, batch);
      if (done && host.invoker.faults.takeDuplicate(spec.functionName)) done = await deliver(host, spec, p, batch);
    } finally {
      host.trackInFlight(-1);
    }
    // Not done: the runtime stopped while the batch was failing or in flight - no checkpoint, redelivered later.
    if (host.isCrashed() || !done) break;
    position = batch[batch.length - 1]!.id;
    if (++sinceCheckpoint >= host.checkpointEvery) {
      const stored = checkpoint();
      prefetched = readNext();
      prefetched.catch(() => undefined); // a failed read is handled where it is awaited, above
      await stored;
      sinceCheckpoint = 0;
    }
  }
  if (!host.isCrashed() && sinceCheckpoint > 0) await checkpoint().catch(() => undefined);
}

/** One batch, with the retry policy if there is one; true when the checkpoint may advance past it. */
async function deliver(host: ConsumerHost, spec: ConsumerSpec, p: number, batch: StoredEvent[]): Promise<boolean> {
  host.noteDelivered(spec.functionName, batch.length);
  const target: TriggerTarget = {
    triggerName: host.invoker.core.get(spec.functionName).trigger.name,
    consumerGroup: spec.consumerGroup,
    hubName: spec.hubName,
    namespace: host.namespace,
    partition: p,
    cardinality: spec.cardinality,
  };
  const request = triggerRequest(target, batch);
  // The fault hook that truncates a batch (tests) gets the first half with the same other inputs.
  const truncate = (full: InvokeRequest): InvokeRequest => {
    const half = triggerRequest(target, batch.slice(0, Math.max(0, Math.floor(batch.length / 2))));
    return { ...full, inputData: [half.inputData![0]!, ...(full.inputData ?? []).slice(1)], triggerMetadata: half.triggerMetadata };
  };
  const max = spec.retry?.maxRetryCount ?? 0;
  for (let attempt = 0; ; attempt++) {
    if (host.isCrashed()) return false;
    try {
      const req = spec.retry ? { ...request, retryContext: { retryCount: attempt, maxRetryCount: max } } : request;
      await host.invoker.invoke(spec.functionName, req, truncate);
      return true;
    } catch (err) {
      const willRetry = spec.retry && (max === -1 || attempt < max);
      host.log(
        `[${spec.functionName}] partition ${p}: batch of ${batch.length} failed: ${(err as Error).message}` +
          (willRetry ? ` - retry ${attempt + 1}${max === -1 ? "" : `/${max}`}` : " - checkpoint advances (no retry policy left), as on Azure"),
      );
      if (!willRetry) {
        host.noteDropped(spec.functionName);
        return true;
      }
      if (!host.isRunning()) return false;
      await host.signals.sleepUnlessStopped(retryDelayMs(spec.retry!, attempt + 1));
      if (!host.isRunning()) return false;
    }
  }
}
