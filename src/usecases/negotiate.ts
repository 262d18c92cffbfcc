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

/**
 * `caller`: the player the ticket token names, or (PLAYER_AUTH=jwt, no ticket token) the player of the JWT,
 * which the route already checked: with a JWT a client may connect BEFORE it creates its ticket, so that no
 * push can go out before it listens.
 */
export async function negotiatePush(push: PlayerPush | undefined, caller: Pick<TicketClaims, "playerId">, playerId: string): Promise<{ url: string }> {
  if (caller.playerId !== playerId) throw refuse("forbidden", "player_mismatch", "the token belongs to another player: a player negotiates only for itself");
  if (!push) throw refuse("notFound", "push_disabled", "push is off on this matchmaker (WEB_PUBSUB_CONNECTION is not set): poll ticketUri instead");
  try {
    return { url: await push.clientUrl(playerId, CLIENT_URL_MINUTES) };
  } catch (err) {
    throw new Unavailable("Azure Web PubSub", err);
  }
}

/**
 * The client URL handed out with a new ticket (`pushUrl`), so the client connects without a negotiate round
 * trip: only when it is signed locally (an access key), never at the cost of a call to the service in the
 * ticket request; undefined otherwise (the client negotiates).
 */
export async function pushUrlForNewTicket(push: PlayerPush | undefined, playerId: string): Promise<string | undefined> {
  if (!push?.signsLocally) return undefined;
  try {
    return await push.clientUrl(playerId, CLIENT_URL_MINUTES);
  } catch {
    return undefined;
  }
}
