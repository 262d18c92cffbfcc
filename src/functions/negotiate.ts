/**
 * `GET /api/tickets/{playerId}/negotiate` (anonymous + ticket token: `Authorization: Bearer <token>` or
 * `?token=`; with PLAYER_AUTH=jwt the player's JWT, and the ticket token, if any, in X-Ticket-Token) →
 * negotiatePush (src/usecases): the Web PubSub client URL bound to the player.
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { playerPush } from "../messaging/webPubSub";
import { negotiatePush } from "../usecases/negotiate";
import { verifyTicketToken } from "../usecases/ticketToken";
import { authorizePlayer, ticketTokenOf } from "./http/ticketAuth";
import { onlyQuery, routeId } from "./http/request";
import { httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { appSettings } from "./wiring";

export async function negotiate(req: HttpRequest): Promise<HttpResponseInit> {
  const playerId = routeId(req, "playerId");
  onlyQuery(req, ["token"]);
  const s = appSettings();
  // With PLAYER_AUTH=jwt the player's JWT first (then the ticket token travels in X-Ticket-Token).
  await authorizePlayer(req, s, playerId);
  const ticketToken = ticketTokenOf(req, s);
  // With PLAYER_AUTH=jwt the JWT alone is enough (a client may listen before it has a ticket).
  if (s.identity.playerAuth.mode === "jwt" && ticketToken === undefined) return json(200, await negotiatePush(playerPush(), { playerId }, playerId));
  const check = verifyTicketToken(ticketToken, s.identity.ticketKeys);
  if (!check.ok) throw httpError(401, check.error, check.detail, {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  return json(200, await negotiatePush(playerPush(), check.claims, playerId));
}

httpRoute("negotiate", { route: "tickets/{playerId}/negotiate", authLevel: "anonymous" }, { GET: negotiate });
