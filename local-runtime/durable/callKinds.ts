/**
 * The kind of one call to the Durable extension's HTTP API (start, status, raiseEvent, terminate, purge ...),
 * as the Durable backend would count it on Azure. The engine counts every call it serves by kind
 * (`metrics().callsByKind`); the bench reports them per matched player.
 */
import { WEBHOOK_PATH } from "./httpApi";

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
