/**
 * Fault injection for tests of the local runtime: the failures the real host produces, on demand.
 *
 * - `throwOn(fn, {nth, mode})`: the nth invocation of `fn` from now fails.
 *   mode "before": fails before the handler runs (e.g. the worker crashed);
 *   mode "after": the handler runs to completion, then the invocation is reported failed (e.g. a timeout);
 *   mode "midBatch": an Event Hub handler runs on the first half of its batch only, then fails - what a
 *   handler that throws halfway through its loop looks like from outside;
 *   mode "midBatchStall": runs the first half of the batch, then hangs until the runtime crashes
 *   (`restart({abrupt: true})`) - the host dying in the middle of a batch.
 * - `duplicateNextBatch(fn)`: the next Event Hub batch of `fn` is delivered twice before its checkpoint
 *   (at-least-once redelivery, as after a lease change).
 */
export type FaultMode = "before" | "after" | "midBatch" | "midBatchStall";

interface PendingThrow {
  remaining: number;
  mode: FaultMode;
  message: string;
}

export class InjectedFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InjectedFault";
  }
}

export class Faults {
  private readonly throws = new Map<string, PendingThrow[]>();
  private readonly duplicates = new Map<string, number>();
  /** Count of faults that fired, per function, for assertions. */
  readonly fired = new Map<string, number>();

  throwOn(functionName: string, o: { nth?: number; mode?: FaultMode; message?: string } = {}): void {
    const list = this.throws.get(functionName) ?? [];
    list.push({ remaining: o.nth ?? 1, mode: o.mode ?? "before", message: o.message ?? `injected fault in ${functionName}` });
    this.throws.set(functionName, list);
  }

  duplicateNextBatch(functionName: string, times = 1): void {
    this.duplicates.set(functionName, (this.duplicates.get(functionName) ?? 0) + times);
  }

  /** Called once per invocation: returns the fault to apply to this one, if any. */
  takeThrow(functionName: string): PendingThrow | undefined {
    const list = this.throws.get(functionName);
    if (!list?.length) return undefined;
    let hit: PendingThrow | undefined;
    for (const t of list) {
      t.remaining--;
      if (t.remaining === 0 && !hit) hit = t;
    }
    this.throws.set(
      functionName,
      list.filter((t) => t.remaining > 0),
    );
    if (hit) this.fired.set(functionName, (this.fired.get(functionName) ?? 0) + 1);
    return hit;
  }

  takeDuplicate(functionName: string): boolean {
    const n = this.duplicates.get(functionName) ?? 0;
    if (n <= 0) return false;
    this.duplicates.set(functionName, n - 1);
    this.fired.set(functionName, (this.fired.get(functionName) ?? 0) + 1);
    return true;
  }

  private stalls: (() => void)[] = [];

  /** Parks an invocation until releaseStalls(); counts as stalled meanwhile. */
  stall(): Promise<void> {
    return new Promise((resolve) => this.stalls.push(resolve));
  }

  stalled(): number {
    return this.stalls.length;
  }

  /** Called when the runtime goes down: stalled invocations end (their results are thrown away). */
  releaseStalls(): void {
    const all = this.stalls;
    this.stalls = [];
    for (const r of all) r();
  }

  pending(): number {
    let n = 0;
    for (const l of this.throws.values()) n += l.length;
    for (const d of this.duplicates.values()) n += d;
    return n;
  }
}
