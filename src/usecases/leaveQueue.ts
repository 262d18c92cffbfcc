/** The orchestrator's only store call: one atomic leave that frees the slot, or reports that the session already got a server. */
import type { LeaveResult } from "../domain/types";
import type { LeaveQueueInput } from "../domain/matchRequest";
import { validateTimestamp } from "../domain/validation";
import type { Ports } from "./ports";
import { endedNotice, pushToPlayers } from "../messaging/webPubSub";
import { ATTR, contextOf, inSpan } from "../telemetry/tracing";

export function leaveQueue(p: Pick<Ports, "store" | "log">, i: LeaveQueueInput): Promise<LeaveResult> {
  const attributes = { [ATTR.ticketId]: i.ticketId, [ATTR.playerId]: i.playerId, [ATTR.region]: i.region, [ATTR.outcome]: i.reason };
  return inSpan("leaveQueue", { parent: contextOf(i.traceparent), attributes }, () => leave(p, i));
}

async function leave(p: Pick<Ports, "store" | "log">, i: LeaveQueueInput): Promise<LeaveResult> {
  // The ticket's requestedAt makes a late leave (a redelivered or slow activity) of an old ticket
  // "superseded" once the player has a later ticket, rather than a preempt that would replace its record.
  const at = i.requestedAt !== undefined ? validateTimestamp("requestedAt", i.requestedAt) : undefined;
  const [result] = await p.store.leave([
    { playerId: i.playerId, ticketId: i.ticketId, region: i.region, reason: i.reason, ...(at?.ok ? { requestedAtMs: at.value } : {}) },
  ]);
  if (!result) throw new Error("the store answered no result for the leave request");
  p.log.log(`leaveQueue ${i.playerId} ticket ${i.ticketId} (${i.reason}): ${result.outcome}`);
  // This leave ended the ticket (timeout, or a cancel the HTTP call did not already free): tell the player.
  if (result.outcome === "left") await pushToPlayers([endedNotice(i.playerId, i.ticketId, i.region, result.reason)], (m) => p.log.warn(m));
  return result;
}
