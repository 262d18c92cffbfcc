/**
 * The MatchRequests port (src/usecases/ports.ts) on the durable-functions client, with the edge cases of
 * durable-functions v3 handled in one place: getStatus THROWS on 404 (unknown instance); raiseEvent
 * rejects on 404 (not started) and treats 410 (finished) as success; starting an id that is still active is
 * refused with 500 and the extension's OrchestrationAlreadyExistsException (its default
 * OverridableExistingInstanceStates = NonRunningStates), while a finished one is replaced by a new execution.
 */
import * as df from "durable-functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { MatchOutcome, MatchRequestInput } from "../../domain/types";
import type { InstanceHistory, MatchRequests, MatchRequestStatus, PartyConsents } from "../../usecases/ports";
import { consentInstanceId, PARTY_ACCEPTED_EVENT, PARTY_CONSENT_ORCHESTRATOR, type PartyConsentOutcome } from "../../domain/partyConsent";
import { recordDurableCall } from "../../telemetry/metrics";

import { CANCEL_EVENT, ORCHESTRATOR_NAME, SERVER_READY_EVENT } from "../../domain/matchRequest";

export { CANCEL_EVENT, LEAVE_ACTIVITY_NAME, ORCHESTRATOR_NAME, SERVER_READY_EVENT } from "../../domain/matchRequest";

const LIVE_STATES = new Set(["Running", "Pending", "Suspended", "ContinuedAsNew"]);

export function isNotFound(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /HTTP 404|No instance with ID|status code: 404/i.test(msg);
}

/** The extension's refusal to start an id whose execution is still active (Pending, Running, Suspended). */
export function isAlreadyActive(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /OrchestrationAlreadyExistsException|An Orchestration instance with the (status \w+|ID \S+) already exists/.test(msg);
}

/** The instance's status, or null if the Durable extension does not know it. */
export async function getStatusOrNull(client: DurableClient, instanceId: string): Promise<DurableOrchestrationStatus | null> {
  recordDurableCall("getStatus");
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The ticket an instance works on: from its input (always there) or its custom status. */
function ticketOf(status: DurableOrchestrationStatus): string | undefined {
  const input = status.input as Partial<MatchRequestInput> | null | undefined;
  if (input && typeof input.ticketId === "string") return input.ticketId;
  const custom = status.customStatus as { ticketId?: unknown } | null | undefined;
  return typeof custom?.ticketId === "string" ? custom.ticketId : undefined;
}

function outcomeOf(status: DurableOrchestrationStatus): MatchOutcome | undefined {
  const out = status.output as MatchOutcome | null | undefined;
  return out && typeof out === "object" && typeof out.status === "string" ? out : undefined;
}

/** The extension formats times with .NET's "s" format plus Z: to the second, UTC. */
function secondsZ(t: Date | string | undefined): string {
  const d = t instanceof Date ? t : new Date(t ?? 0);
  return Number.isNaN(d.getTime()) ? "" : `${d.toISOString().slice(0, 19)}Z`;
}

export function matchRequestStatus(status: DurableOrchestrationStatus): MatchRequestStatus {
  const record = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: String(status.runtimeStatus),
    input: status.input ?? null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: secondsZ(status.createdTime),
    lastUpdatedTime: secondsZ(status.lastUpdatedTime),
  };
  return { record, live: LIVE_STATES.has(record.runtimeStatus), ticketId: ticketOf(status), outcome: outcomeOf(status) };
}

/** Raises an event; false if the instance does not exist (not started yet, or purged). */
async function raiseEventIfExists(client: DurableClient, instanceId: string, eventName: string, data: unknown): Promise<boolean> {
  recordDurableCall("raiseEvent");
  try {
    await client.raiseEvent(instanceId, eventName, data);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function durableMatchRequests(client: DurableClient): MatchRequests {
  return {
    async status(playerId) {
      const status = await getStatusOrNull(client, playerId);
      return status ? matchRequestStatus(status) : null;
    },
    async start(input) {
      recordDurableCall("startNew");
      try {
        await client.startNew(ORCHESTRATOR_NAME, { instanceId: input.playerId, input });
        return true;
      } catch (err) {
        if (isAlreadyActive(err)) return false;
        throw err;
      }
    },
    serverReady: (playerId, event) => raiseEventIfExists(client, playerId, SERVER_READY_EVENT, event),
    cancel: (playerId, event) => raiseEventIfExists(client, playerId, CANCEL_EVENT, event),
  };
}

export function durablePartyConsents(client: DurableClient): PartyConsents {
  return {
    async start(input) {
      recordDurableCall("startNew");
      await client.startNew(PARTY_CONSENT_ORCHESTRATOR, { instanceId: consentInstanceId(input.request.ticketId), input });
    },
    accept: (ticketId, playerId) => raiseEventIfExists(client, consentInstanceId(ticketId), PARTY_ACCEPTED_EVENT, { playerId }),
    async status(ticketId) {
      const status = await getStatusOrNull(client, consentInstanceId(ticketId));
      if (!status) return null;
      const custom = status.customStatus as { pending?: unknown } | null | undefined;
      const pending = Array.isArray(custom?.pending) ? custom.pending.filter((x): x is string => typeof x === "string") : [];
      const out = status.output as PartyConsentOutcome | null | undefined;
      return { live: LIVE_STATES.has(String(status.runtimeStatus)), pending, outcome: out && typeof out.status === "string" ? out : undefined };
    },
  };
}

export function durableInstanceHistory(client: DurableClient): InstanceHistory {
  return {
    async purgeFinished(createdBefore) {
      const result = await client.purgeInstanceHistoryBy({
        // The extension needs a start; every instance of this app is younger than the epoch.
        createdTimeFrom: new Date(0),
        createdTimeTo: createdBefore,
        runtimeStatus: [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Terminated, df.OrchestrationRuntimeStatus.Failed],
      });
      return result.instancesDeleted;
    },
  };
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
