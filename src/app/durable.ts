/**
 * Durable client calls with the edge cases of durable-functions v3 handled in one place:
 * getStatus THROWS on 404 (unknown instance); raiseEvent rejects on 404 (not started) and treats 410
 * (finished) as success; starting an id that is Running fails.
 */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { MatchOutcome, MatchRequestInput } from "../domain/types";

export const ORCHESTRATOR_NAME = "matchRequest";
export const LEAVE_ACTIVITY_NAME = "leaveQueue";
export const SERVER_READY_EVENT = "ServerReady";
export const CANCEL_EVENT = "Cancel";

const LIVE_STATES = new Set(["Running", "Pending", "Suspended", "ContinuedAsNew"]);

function isNotFound(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /HTTP 404|No instance with ID|status code: 404/i.test(msg);
}

/** The instance's status, or null if the Durable extension does not know it. */
export async function getStatusOrNull(client: DurableClient, instanceId: string): Promise<DurableOrchestrationStatus | null> {
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export function isLive(status: DurableOrchestrationStatus | null): boolean {
  return !!status && LIVE_STATES.has(String(status.runtimeStatus));
}

/** The ticket an instance works on: from its input (always there) or its custom status. */
export function ticketOf(status: DurableOrchestrationStatus | null): string | undefined {
  const input = status?.input as Partial<MatchRequestInput> | null | undefined;
  if (input && typeof input.ticketId === "string") return input.ticketId;
  const custom = status?.customStatus as { ticketId?: unknown } | null | undefined;
  return typeof custom?.ticketId === "string" ? custom.ticketId : undefined;
}

export function outcomeOf(status: DurableOrchestrationStatus | null): MatchOutcome | undefined {
  const out = status?.output as MatchOutcome | null | undefined;
  return out && typeof out === "object" && typeof out.status === "string" ? out : undefined;
}

/** Raises an event; false if the instance does not exist (not started yet, or purged). */
export async function raiseEventIfExists(client: DurableClient, instanceId: string, eventName: string, data: unknown): Promise<boolean> {
  try {
    await client.raiseEvent(instanceId, eventName, data);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The Durable status URL of an instance WITHOUT the system key (`code`): clients must never get that key. */
export function statusUrlWithoutKey(client: DurableClient, instanceId: string): string {
  const raw = client.createHttpManagementPayload(instanceId).statusQueryGetUri;
  try {
    const u = new URL(raw);
    u.searchParams.delete("code");
    return u.toString();
  } catch {
    return raw.replace(/([?&])code=[^&]*&?/, "$1").replace(/[?&]$/, "");
  }
}
