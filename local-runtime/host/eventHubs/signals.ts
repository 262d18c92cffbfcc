/** Wake-ups of idle partition consumers (new events, or a stop) without polling Redis in a tight loop. */
export class PartitionSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sleepers = new Set<() => void>();

  /** New events on a partition: its idle consumers read again at once. */
  wake(hub: string, p: number): void {
    for (const w of [...(this.waiters.get(`${hub}/${p}`) ?? [])]) w();
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
