/**
 * Durable calls by kind, as the Durable backend would see them on Azure: every call the durable-functions
 * client makes to the extension's HTTP API (start, status, raiseEvent, terminate, purge ...). Counted on the
 * local runtime's Durable endpoint, which every client call passes through. When the local runtime counts
 * them itself (`metrics().callsByKind`), its count is used instead.
 */
export const WEBHOOK_PATH = "/runtime/webhooks/durabletask";
const CONTROLLERS = new Set(["orchestrators", "instances", "entities"]);

/** The kind of one call to the Durable HTTP API, or undefined for a path outside it. */
export function durableCallKind(method: string, url: string): string | undefined {
  const path = new URL(url, "http://localhost").pathname;
  const at = path.indexOf(WEBHOOK_PATH);
  if (at < 0) return undefined;
  const segments = path
    .slice(at + WEBHOOK_PATH.length)
    .split("/")
    .filter(Boolean);
  // The client's RPC base URL adds a segment of its own before the controller.
  while (segments.length && !CONTROLLERS.has(segments[0]!)) segments.shift();
  const [controller, id, action] = segments;
  const m = method.toUpperCase();
  if (controller === "orchestrators") return "start";
  if (controller === "instances") {
    if (!id) return m === "DELETE" ? "purgeMany" : "query";
    if (!action) return m === "DELETE" ? "purge" : "status";
    return action; // raiseEvent, terminate, suspend, resume, rewind
  }
  return `${m} ${controller ?? "/"}`;
}

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
