/** The ticket token check of the ticket routes: 401 unless the token is genuine and names this player. */
import type { HttpRequest } from "@azure/functions";
import { httpError } from "./http";
import { tokenFromRequest, verifyTicketToken, type TicketClaims } from "./ticketToken";

export function authorizeTicket(req: HttpRequest, playerId: string, signingKey: string): TicketClaims {
  const token = tokenFromRequest(req.headers.get("authorization"), req.query.get("token"));
  const check = verifyTicketToken(token, signingKey);
  if (!check.ok) throw httpError(401, check.error, check.detail, {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  if (check.claims.playerId !== playerId) {
    throw httpError(401, "invalid_token", "the token belongs to another player's ticket", {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  }
  return check.claims;
}
