/**
 * The checks of the ticket routes: the playerId route parameter, no query parameter but `token`, and then
 * 401 unless the token is genuine and names this player.
 */
import type { HttpRequest } from "@azure/functions";
import { httpError } from "./respond";
import { onlyQuery, routeId } from "./request";
import { tokenFromRequest, verifyTicketToken, type TicketClaims } from "../../usecases/ticketToken";
import type { TicketKey } from "../../identity/ticketKeys";

export function authorizeTicket(req: HttpRequest, keys: readonly TicketKey[]): { playerId: string; claims: TicketClaims } {
  const playerId = routeId(req, "playerId");
  onlyQuery(req, ["token"]);
  const token = tokenFromRequest(req.headers.get("authorization"), req.query.get("token"));
  const check = verifyTicketToken(token, keys);
  if (!check.ok) throw httpError(401, check.error, check.detail, {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  if (check.claims.playerId !== playerId) {
    throw httpError(401, "invalid_token", "the token belongs to another player's ticket", {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  }
  return { playerId, claims: check.claims };
}
