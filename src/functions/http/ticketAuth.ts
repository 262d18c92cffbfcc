/**
 * Who may use the ticket routes.
 *
 * - `PLAYER_AUTH=none` (default): the ticket token alone (`Authorization: Bearer <token>` or `?token=`),
 *   which must be genuine, unexpired and name this route's player.
 * - `PLAYER_AUTH=jwt`: `Authorization: Bearer <player JWT>` proves who calls (src/identity/playerAuth.ts);
 *   its player must be the route's (else 403 player_mismatch). The ticket token then travels as
 *   `X-Ticket-Token: <token>` (or `?token=`) and still names which ticket (and region) to read or cancel.
 */
import type { HttpRequest } from "@azure/functions";
import type { Settings } from "../../config/settings";
import { PlayerAuthError, playerTokenVerifier } from "../../identity/playerAuth";
import { httpError } from "./respond";
import { onlyQuery, routeId } from "./request";
import { tokenFromRequest, verifyTicketToken, type TicketClaims } from "../../usecases/ticketToken";

const TICKET_CHALLENGE = { "WWW-Authenticate": 'Bearer realm="tickets"' };

/** With PLAYER_AUTH=jwt: the caller's JWT must be valid and name `playerId`. Nothing to check with `none`. */
export async function authorizePlayer(req: HttpRequest, s: Settings, playerId: string): Promise<void> {
  const auth = s.identity.playerAuth;
  if (auth.mode !== "jwt") return;
  let caller: string;
  try {
    caller = (await playerTokenVerifier(auth).verify(req.headers.get("authorization"))).playerId;
  } catch (err) {
    if (!(err instanceof PlayerAuthError)) throw err;
    throw httpError(err.status, err.error, err.detail, {}, err.status === 401 ? { "WWW-Authenticate": err.challenge } : { "Retry-After": "5" });
  }
  if (caller !== playerId) {
    throw httpError(403, "player_mismatch", `the JWT is player ${caller}'s (claim ${auth.playerIdClaim}); it cannot act for player ${playerId}`);
  }
}

/** The ticket token of a request: `Authorization` (or `?token=`); with PLAYER_AUTH=jwt, `X-Ticket-Token` (or `?token=`). */
export function ticketTokenOf(req: HttpRequest, s: Settings): string | undefined {
  if (s.identity.playerAuth.mode === "jwt") return req.headers.get("x-ticket-token") ?? req.query.get("token") ?? undefined;
  return tokenFromRequest(req.headers.get("authorization"), req.query.get("token"));
}

export async function authorizeTicket(req: HttpRequest, s: Settings): Promise<{ playerId: string; claims: TicketClaims }> {
  const playerId = routeId(req, "playerId");
  onlyQuery(req, ["token"]);
  const jwt = s.identity.playerAuth.mode === "jwt";
  await authorizePlayer(req, s, playerId);
  const check = verifyTicketToken(ticketTokenOf(req, s), s.identity.ticketKeys);
  if (!check.ok) {
    const detail =
      jwt && check.error === "missing_token" ? "send the ticket token as 'X-Ticket-Token: <token>' or ?token= (the JWT goes in Authorization)" : check.detail;
    throw httpError(401, check.error, detail, {}, TICKET_CHALLENGE);
  }
  if (check.claims.playerId !== playerId) throw httpError(401, "invalid_token", "the token belongs to another player's ticket", {}, TICKET_CHALLENGE);
  return { playerId, claims: check.claims };
}
