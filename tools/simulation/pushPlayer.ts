/**
 * The push mode's player: the client library's `watchTicket` (client/) — negotiate, the Web PubSub client on
 * the reliable subprotocol, one status read once connected, polling only as the fallback. Its status reads
 * are counted as the player's polls, so the summary compares push with polling.
 */
import { watchTicket } from "../../client";
import type { PlayerClient } from "./player";
import { recordOutcome } from "./player";

export const pushClient: PlayerClient = {
  async awaitOutcome(r, ticket, ctx) {
    if (!ticket.token || !ticket.ticketUri) {
      r.status = "failed";
      r.error = "the ticket answer has no token or ticketUri: push needs both";
      return;
    }
    const stop = AbortSignal.timeout(Math.max(0, ctx.deadline - Date.now()));
    try {
      const outcome = await watchTicket({
        baseUrl: new URL(ticket.ticketUri).origin,
        ticket: { ticketId: ticket.ticketId, playerId: r.playerId, token: ticket.token, ticketUri: ticket.ticketUri, pushUrl: ticket.pushUrl },
        stopSignal: stop,
        pollIntervalMs: ctx.pollMs,
        onPushState: (up) => {
          if (up) r.pushConnectedAt ??= Date.now();
        },
      });
      r.polls = outcome.statusReads;
      r.via = outcome.via;
      if (outcome.assignedAt) r.assignedAt = Date.parse(outcome.assignedAt);
      recordOutcome(r, outcome.ticket);
    } catch (err) {
      if (stop.aborted) return; // past the deadline: stays unfinished
      r.status = "failed";
      r.error = err instanceof Error ? err.message : String(err);
    }
  },
};
