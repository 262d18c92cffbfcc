/**
 * Durable calls by kind, as the Durable backend would see them on Azure: every call the durable-functions
 * client makes to the extension's HTTP API (start, status, raiseEvent, terminate, purge ...). Counted on the
 * local runtime's Durable endpoint, which every client call passes through (the engine keeps the same count
 * itself, `metrics().callsByKind`, which the bench prefers).
 */
import { durableCallKind } from "../local-runtime/durable/callKinds";

export { durableCallKind } from "../local-runtime/durable/callKinds";

/** Counts by kind; `take()` returns the counts since the last take. */
export class DurableCallCounter {
  private counts = new Map<string, number>();
  add(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
  take(): Record<string, number> {
    const out = Object.fromEntries([...this.counts.entries()].sort());
    this.counts = new Map();
    return out;
  }
}

interface HttpHandlerLike {
  handleHttp(req: { method: string; url: string }): Promise<unknown>;
}

/** Wraps the engine's HTTP entry so that every client call is counted; returns the undo. */
export function countDurableCalls(engine: HttpHandlerLike, counter: DurableCallCounter): () => void {
  const original = engine.handleHttp.bind(engine);
  engine.handleHttp = (req) => {
    const kind = durableCallKind(req.method, req.url);
    if (kind) counter.add(kind);
    return original(req);
  };
  return () => {
    engine.handleHttp = original;
  };
}

/** Calls per matched player by kind. */
export function perPlayer(counts: Record<string, number>, players: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, players ? v / players : NaN]));
}
