/**
 * Negotiate (`GET /api/tickets/{playerId}/negotiate`): the Azure Web PubSub client URL of hub `matchmaking`
 * whose user is the player, so that the outcome of its ticket is pushed to it.
 *
 * The URL is bound to the player its ticket token names: a genuine token of another player's ticket is
 * forbidden (`player_mismatch`), not unauthorized. The URL grants no roles: a player receives what the
 * matchmaker sends it and cannot join or send to groups. With push off (no WEB_PUBSUB_CONNECTION) there is
 * nothing to negotiate (`push_disabled`): the client polls its ticket instead.
 */
import type { PlayerPush } from "../messaging/webPubSub";
import { refuse, Unavailable } from "./errors";
import type { TicketClaims } from "./ticketToken";

/** How long the client URL stays valid; a reconnect after that negotiates again (the client library does). */
export const CLIENT_URL_MINUTES = 60;

export async function negotiatePush(push: PlayerPush | undefined, claims: TicketClaims, playerId: string): Promise<{ url: string }> {
  if (claims.playerId !== playerId) throw refuse("forbidden", "player_mismatch", "the token belongs to another player: a player negotiates only for itself");
  if (!push) throw refuse("notFound", "push_disabled", "push is off on this matchmaker (WEB_PUBSUB_CONNECTION is not set): poll ticketUri instead");
  try {
    return { url: await push.clientUrl(playerId, CLIENT_URL_MINUTES) };
  } catch (err) {
    throw new Unavailable("Azure Web PubSub", err);
  }
}
