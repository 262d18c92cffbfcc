/**
 * Orchestrator `matchRequest`, one instance per player (instanceId = playerId).
 *
 * Waits for the first of: its deadline (a durable timer), `ServerReady` for ITS ticket, or `Cancel`.
 * - ServerReady wins: completes as matched straight from the event. A matched player costs exactly two
 *   episodes (start; the event) and no activity.
 * - Timer or Cancel wins: leaves the queue through the `leaveQueue` activity. The store decides the race
 *   with assignment atomically: if the session already had a server, the player is matched, not timed out.
 *
 * A ServerReady for another (older) ticket or a Cancel for another ticket is ignored: the orchestrator
 * waits again with FRESH tasks (a new timer with the same deadline and new event waiters). Tasks are never
 * reused across yields: the JS library would re-send an already scheduled timer's action, which the
 * extension counts as a new timer and sequence numbers would drift. Timers still pending at the end are
 * cancelled, so the instance completes at once.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from "durable-functions";
import type { ErrorBody, LeaveReason, LeaveResult, MatchOutcome } from "../domain/types";
import { cancelApplies, checkOrchestratorInput, matchFromServerReady, outcomeFromLeave, refusalOf, type LeaveQueueInput } from "../domain/matchRequest";
import { CANCEL_EVENT, LEAVE_ACTIVITY_NAME, ORCHESTRATOR_NAME, SERVER_READY_EVENT } from "./durable/matchRequests";
import { ticketFinished } from "../telemetry/matchRequest";

/**
 * Leave retries: a short Redis outage must not turn into a failed instance (and a ghost player; the
 * sweeper's expireStale is the last resort). 5 attempts, 2 s, 4 s, 8 s, 16 s apart (at most 30 s), as
 * durable timers of the library's callActivityWithRetry.
 */
export const LEAVE_ATTEMPTS = 5;
export const LEAVE_FIRST_RETRY_MS = 2000;
const LEAVE_MAX_RETRY_MS = 30_000;
const LEAVE_RETRY = Object.assign(new df.RetryOptions(LEAVE_FIRST_RETRY_MS, LEAVE_ATTEMPTS), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: LEAVE_MAX_RETRY_MS,
});

export const matchRequestOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext): Generator<Task, MatchOutcome, unknown> {
  const input = checkOrchestratorInput(context.df.getInput());
  // currentUtcDateTime is the replay-safe clock: the same value on every replay of the first episode.
  const startedAt = context.df.currentUtcDateTime;
  const deadline = new Date(startedAt.getTime() + input.timeoutSeconds * 1000);
  context.df.setCustomStatus({ status: "searching", ticketId: input.ticketId, deadline: deadline.toISOString() });

  const timers: TimerTask[] = [];
  let reason: LeaveReason;
  let refusal: ErrorBody | undefined;
  for (;;) {
    const timer = context.df.createTimer(deadline);
    timers.push(timer);
    const ready = context.df.waitForExternalEvent(SERVER_READY_EVENT);
    const cancel = context.df.waitForExternalEvent(CANCEL_EVENT);
    const winner = (yield context.df.Task.any([timer, ready, cancel])) as Task;

    if (winner === ready) {
      const match = matchFromServerReady(input, ready.result);
      if (match) {
        cancelPending(timers);
        if (!context.df.isReplaying) ticketFinished(input, match, startedAt, (ready.result as { traceparent?: string } | null)?.traceparent);
        return finish(context, match);
      }
      if (!context.df.isReplaying) context.warn(`matchRequest ${input.playerId}: ignored ServerReady for another ticket (mine: ${input.ticketId})`);
      continue;
    }
    if (winner === cancel) {
      if (cancelApplies(input, cancel.result)) {
        reason = "cancelled";
        refusal = refusalOf(cancel.result);
        break;
      }
      continue;
    }
    reason = "timedOut";
    break;
  }
  cancelPending(timers);
  const leave: LeaveQueueInput = {
    playerId: input.playerId,
    ticketId: input.ticketId,
    region: input.region,
    reason,
    ...(input.requestedAt !== undefined ? { requestedAt: input.requestedAt } : {}),
    traceparent: input.traceparent,
  };
  const result = (yield context.df.callActivityWithRetry(LEAVE_ACTIVITY_NAME, LEAVE_RETRY, leave)) as LeaveResult;
  const left = outcomeFromLeave(input, result, reason);
  // A ticket the intake refused never queued: its players learn why.
  const outcome = refusal && left.status === "cancelled" ? { ...left, refusal } : left;
  if (!context.df.isReplaying) ticketFinished(input, outcome, startedAt);
  return finish(context, outcome);
};

/** The final custom status says the outcome, so a client reading only customStatus is not left at "searching". */
function finish(context: OrchestrationContext, outcome: MatchOutcome): MatchOutcome {
  context.df.setCustomStatus({ status: outcome.status, ticketId: outcome.ticketId });
  return outcome;
}

function cancelPending(timers: TimerTask[]): void {
  for (const t of timers) if (!t.isCompleted && !t.isCanceled) t.cancel();
}

df.app.orchestration(ORCHESTRATOR_NAME, matchRequestOrchestrator);
