/**
 * Bounded concurrency, the one helper for it in the repository (product, local runtime, tools and bench).
 * A Functions worker shares its sockets across invocations: unbounded fan-out to Durable or Redis turns a
 * large batch into a burst the backend throttles, so every fan-out goes through one of these.
 */

/** Runs at most `limit` async jobs at once; the others wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Runs `fn` over items with at most `limit` in flight; rejects with the first error after all settle. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const limiter = new Limiter(Math.max(1, limit));
  const results = await Promise.allSettled(items.map((item) => limiter.run(() => fn(item))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}
