/** Wake-ups of idle partition consumers (new events, or a stop) without polling Redis in a tight loop. */
export class PartitionSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sleepers = new Set<() => void>();
  private readonly wakes = new Map<string, number>();

  /** New events on a partition: its idle consumers read again at once. */
  wake(hub: string, p: number): void {
    const key = `${hub}/${p}`;
    this.wakes.set(key, (this.wakes.get(key) ?? 0) + 1);
    for (const w of [...(this.waiters.get(key) ?? [])]) w();
  }

  /**
   * How many wakes the partition had so far. A consumer notes it when it issues a read: a wake that comes
   * while the read is on its way (the read may not see those events) is not lost, the count says so.
   */
  wakeCount(hub: string, p: number): number {
    return this.wakes.get(`${hub}/${p}`) ?? 0;
  }

  /** Resolves on the next wake of the partition, or after `pollMs` (events written by another process). */
  waitForEvents(hub: string, p: number, pollMs: number): Promise<void> {
    return new Promise((resolve) => {
      const key = `${hub}/${p}`;
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      set.add(done);
    });
  }

  /** A retry delay that a stop cuts short. */
  sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /** Releases every waiter and sleeper (stop). */
  releaseAll(): void {
    for (const set of this.waiters.values()) for (const w of [...set]) w();
    for (const s of [...this.sleepers]) s();
  }
}
