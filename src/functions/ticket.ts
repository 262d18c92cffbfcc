/**
 * `GET /api/tickets/{playerId}` and `DELETE /api/tickets/{playerId}` (anonymous, ticket token required:
 * `Authorization: Bearer <token>` or `?token=`).
 *
 * The token names the ticket and its region, so the read goes straight to the region's Redis hash slot.
 * The store is the source of truth (it decides the timeout/match race); the orchestration's status fills
 * in once the store has forgotten a finished ticket.
 *
 * DELETE frees the slot at once (one atomic store call) and tells the orchestration (`Cancel`). A matched
 * ticket cannot be cancelled: 409 with the match.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { appSettings } from "../app/deps";
import { dependency, httpError, httpRoute, json, redisCall } from "../app/http";
import { authorizeTicket } from "../app/ticketAuth";
import { CANCEL_EVENT, getStatusOrNull, isLive, outcomeOf, raiseEventIfExists, ticketOf } from "../app/durable";
import { matchedOutcome, STALE_MARGIN_SECONDS } from "../app/matchLogic";
import { ticketFromClaims, ticketFromOutcome, ticketFromPlayer } from "../app/views";

export async function getTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const { playerId, claims } = authorizeTicket(req, s.ticketSigningKey);
  const view = await redisCall(ctx, (st) => st.getPlayer(claims.region, playerId));
  if (view && view.ticketId === claims.ticketId) return json(200, ticketFromPlayer(view));

  const status = await dependency("the Durable extension", getStatusOrNull(df.getClient(ctx), playerId), ctx);
  if (status && ticketOf(status) === claims.ticketId) {
    const outcome = outcomeOf(status);
    if (outcome) return json(200, ticketFromOutcome(playerId, outcome));
    if (isLive(status)) return json(200, ticketFromClaims(claims, "searching"));
  }
  if (view && view.requestedAtMs > claims.iat * 1000) {
    throw httpError(404, "ticket_replaced", "the player has a newer ticket");
  }
  // Accepted but not processed yet (still in the Event Hub), as long as it could still be.
  const ageMs = Date.now() - claims.iat * 1000;
  if (ageMs < (s.matchTimeoutSeconds + STALE_MARGIN_SECONDS) * 1000) {
    return json(200, ticketFromClaims(claims, "searching"));
  }
  throw httpError(404, "ticket_not_found", "the ticket is unknown or has expired");
}

export async function cancelTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { playerId, claims } = authorizeTicket(req, appSettings().ticketSigningKey);
  const [result] = await redisCall(ctx, (st) => st.leave([{ playerId, ticketId: claims.ticketId, region: claims.region, reason: "cancelled" }]));
  if (!result) throw new Error("the store answered no result for the leave request");
  switch (result.outcome) {
    case "assigned":
      throw httpError(409, "already_matched", "the ticket is already matched and cannot be cancelled", {
        match: ticketFromOutcome(playerId, matchedOutcome(claims.ticketId, result.assignment)),
      });
    case "superseded":
      throw httpError(409, "ticket_replaced", "the player has a newer ticket; cancel that one with its own token");
    case "alreadyLeft":
      if (result.reason !== "cancelled") {
        throw httpError(409, "ticket_finished", `the ticket already ended (${result.reason === "expired" ? "timedOut" : result.reason})`, {
          ticket: { playerId, ticketId: claims.ticketId, status: "timedOut" },
        });
      }
      break;
    default:
      break;
  }
  // The slot is free already; the event only lets the orchestration finish now rather than at its
  // deadline (where its leave would report "cancelled" anyway). So a failure here is logged, not fatal.
  try {
    await raiseEventIfExists(df.getClient(ctx), playerId, CANCEL_EVENT, { ticketId: claims.ticketId });
  } catch (err) {
    ctx.warn(`Cancel event for ${playerId} not delivered (the orchestration ends at its deadline): ${err instanceof Error ? err.message : String(err)}`);
  }
  return json(200, ticketFromClaims(claims, "cancelled"));
}

httpRoute("ticket", { route: "tickets/{playerId}", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { GET: getTicket, DELETE: cancelTicket });
