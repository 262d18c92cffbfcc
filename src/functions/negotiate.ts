/**
 * `GET /api/tickets/{playerId}/negotiate` (anonymous + ticket token): the Azure Web PubSub client URL of
 * hub `matchmaking` whose user is the player, so that the outcome of its ticket is pushed to it.
 *
 * The URL is bound to the player the token names: a token of another player's ticket is 403
 * `player_mismatch` (it is a genuine credential, just not for this player). The URL grants no roles: a
 * player can receive what the matchmaker sends it, and cannot join or send to groups. Push off (no
 * WEB_PUBSUB_CONNECTION) is 404 `push_disabled`: the client polls `ticketUri` instead.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { appSettings } from "../app/deps";
import { dependency, httpError, httpRoute, json } from "../app/http";
import { onlyQuery, routeId } from "../app/requestParams";
import { tokenFromRequest, verifyTicketToken } from "../app/ticketToken";
import { playerPush } from "../messaging/webPubSub";

/** How long the client URL stays valid; a reconnect after that negotiates again (the client library does). */
export const CLIENT_URL_MINUTES = 60;

export async function negotiate(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const playerId = routeId(req, "playerId");
  onlyQuery(req, ["token"]);
  const check = verifyTicketToken(tokenFromRequest(req.headers.get("authorization"), req.query.get("token")), appSettings().ticketSigningKey);
  if (!check.ok) throw httpError(401, check.error, check.detail, {}, { "WWW-Authenticate": 'Bearer realm="tickets"' });
  if (check.claims.playerId !== playerId) throw httpError(403, "player_mismatch", "the token belongs to another player: a player negotiates only for itself");
  const push = playerPush();
  if (!push) throw httpError(404, "push_disabled", "push is off on this matchmaker (WEB_PUBSUB_CONNECTION is not set): poll ticketUri instead");
  const url = await dependency("Azure Web PubSub", push.clientUrl(playerId, CLIENT_URL_MINUTES), ctx);
  return json(200, { url });
}

httpRoute("negotiate", { route: "tickets/{playerId}/negotiate", authLevel: "anonymous" }, { GET: negotiate });
