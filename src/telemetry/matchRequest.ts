/**
 * The end of a ticket, seen from its orchestration: the outcome counters, the time-to-match histogram
 * and the `matchRequest` span of the ticket's trace (from the request to the outcome). Called by the
 * orchestrator once, on the episode that decides (never while replaying).
 */
import { SpanKind } from "@opentelemetry/api";
import type { MatchOutcome, MatchRequestInput } from "../domain/types";
import { recordMatchQuality, recordTicketOutcome } from "./metrics";
import { ATTR, contextOf, linkTo, tracer } from "./tracing";

export function ticketFinished(input: MatchRequestInput, outcome: MatchOutcome, startedAt: Date, serverReadyTraceparent?: string): void {
  const requested = input.requestedAt ? Date.parse(input.requestedAt) : NaN;
  const start = Number.isFinite(requested) ? requested : startedAt.getTime();
  const now = Date.now();
  const waitSeconds = Math.max(0, (now - start) / 1000);
  const kind = outcome.status === "matched" ? "matched" : outcome.status === "cancelled" ? "cancelled" : "timedOut";
  recordTicketOutcome(kind, input.mode, input.region, waitSeconds);
  const quality = (outcome as { quality?: { skillSpread?: number } }).quality;
  if (kind === "matched") recordMatchQuality(input.mode, input.region, { skillSpread: quality?.skillSpread });

  const link = linkTo(serverReadyTraceparent);
  const span = tracer().startSpan(
    "matchRequest",
    {
      kind: SpanKind.INTERNAL,
      startTime: start,
      links: link ? [link] : [],
      attributes: {
        [ATTR.ticketId]: input.ticketId,
        [ATTR.playerId]: input.playerId,
        [ATTR.mode]: input.mode,
        [ATTR.region]: input.region,
        [ATTR.outcome]: outcome.status,
        [ATTR.waitSeconds]: waitSeconds,
        ...(outcome.status === "matched" ? { [ATTR.sessionId]: outcome.sessionId, [ATTR.serverId]: outcome.serverId } : {}),
      },
    },
    contextOf(input.traceparent),
  );
  span.end(now);
}
