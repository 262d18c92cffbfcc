/**
 * Orchestrator `partyConsent`, one per party ticket under PLAYER_AUTH=jwt (instanceId consent-<ticketId>):
 * waits until every member has accepted (`PartyAccepted` events, raised by POST
 * /api/tickets/{playerId}/accept with the member's own JWT) and then publishes the player request through
 * the `publishPartyRequest` activity, or ends `expired` at its deadline without queueing anyone.
 * As in matchRequest, tasks are never reused across yields and the pending timer is cancelled at the end.
 */
import * as df from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from "durable-functions";
import {
  acceptedMember,
  PARTY_ACCEPTED_EVENT,
  PARTY_CONSENT_ORCHESTRATOR,
  pendingMembers,
  PUBLISH_PARTY_REQUEST_ACTIVITY,
  WAITING_FOR_PLAYERS,
  type PartyConsentInput,
  type PartyConsentOutcome,
} from "../domain/partyConsent";
import { publishPartyRequest } from "../usecases/tickets";
import { portsFor } from "./wiring";

export const partyConsentOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext): Generator<Task, PartyConsentOutcome, unknown> {
  const input = context.df.getInput() as PartyConsentInput;
  const ticketId = input.request.ticketId;
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + input.timeoutSeconds * 1000);
  const accepted = new Set<string>();
  const timers: TimerTask[] = [];
  for (let pending = pendingMembers(input, accepted); pending.length; pending = pendingMembers(input, accepted)) {
    context.df.setCustomStatus({ status: WAITING_FOR_PLAYERS, ticketId, pending });
    const timer = context.df.createTimer(deadline);
    timers.push(timer);
    const accept = context.df.waitForExternalEvent(PARTY_ACCEPTED_EVENT);
    const winner = (yield context.df.Task.any([timer, accept])) as Task;
    if (winner === timer) {
      const outcome: PartyConsentOutcome = { status: "expired", ticketId, pending };
      context.df.setCustomStatus(outcome);
      return outcome;
    }
    const member = acceptedMember(input, accept.result);
    if (member) accepted.add(member);
  }
  for (const t of timers) if (!t.isCompleted && !t.isCanceled) t.cancel();
  const requestedAt = (yield context.df.callActivity(PUBLISH_PARTY_REQUEST_ACTIVITY, input)) as string;
  const outcome: PartyConsentOutcome = { status: "accepted", ticketId, requestedAt };
  context.df.setCustomStatus(outcome);
  return outcome;
};

df.app.orchestration(PARTY_CONSENT_ORCHESTRATOR, partyConsentOrchestrator);
df.app.activity(PUBLISH_PARTY_REQUEST_ACTIVITY, {
  handler: (input: unknown, context: InvocationContext) => publishPartyRequest(portsFor(context), input as PartyConsentInput),
});
