/**
 * The push mode's player: the client library's `watchTicket` (client/) — the ticket's push URL (or negotiate),
 * the Web PubSub client on the reliable subprotocol, one status read once connected, polling only as the
 * fallback. Its status reads are counted as the player's polls, so the summary compares push with polling.
 *
 * `identityPushClient` is the same player under PLAYER_AUTH=jwt: it gets its JWT from the local runtime's
 * development issuer and opens its push connection with it BEFORE it asks for a ticket (as findMatch does with
 * a JWT), so no outcome can be pushed before it listens and it needs no status read at all.
 */
import { openPushConnection, watchTicket, type PushConnection } from "../../client/index";
import { requestJson } from "../jsonHttp";
import type { PlayerClient, PlayerContext, TicketHandle } from "./player";
import { recordOutcome } from "./player";
import type { PlayerResult } from "./types";

async function watch(r: PlayerResult, ticket: TicketHandle, ctx: PlayerContext, extra: { headers?: Record<string, string>; connection?: PushConnection } = {}) {
  if (!ticket.token || !ticket.ticketUri) {
    r.status = "failed";
    r.error = "the ticket answer has no token or ticketUri: push needs both";
    extra.connection?.stop();
    return;
  }
  const stop = AbortSignal.timeout(Math.max(0, ctx.deadline - Date.now()));
  try {
    const outcome = await watchTicket({
      baseUrl: new URL(ticket.ticketUri).origin,
      ticket: { ticketId: ticket.ticketId, playerId: r.playerId, token: ticket.token, ticketUri: ticket.ticketUri, pushUrl: ticket.pushUrl },
      stopSignal: stop,
      pollIntervalMs: ctx.pollMs,
      headers: extra.headers,
      connection: extra.connection,
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
}

export const pushClient: PlayerClient = {
  awaitOutcome: (r, ticket, ctx) => watch(r, ticket, ctx),
};

/** PLAYER_AUTH=jwt with the development issuer of the local runtime at `baseUrl`: JWT, push connection, then the ticket. */
export function identityPushClient(baseUrl: string): PlayerClient {
  const players = new Map<string, { authorization: string; connection: PushConnection | undefined }>();
  return {
    async ticketHeaders(r) {
      const res = await requestJson(`${baseUrl}/runtime/local/identity/token`, "POST", { playerId: r.playerId });
      const token = (res.json as { token?: string } | undefined)?.token;
      if (res.status !== 200 || !token) throw new Error(`the development issuer answered ${res.status}: ${JSON.stringify(res.json)}`);
      const authorization = `Bearer ${token}`;
      const connection = await openPushConnection({ baseUrl, playerId: r.playerId, jwt: authorization });
      if (connection) r.pushConnectedAt = Date.now();
      players.set(r.playerId, { authorization, connection });
      return { Authorization: authorization };
    },
    awaitOutcome(r, ticket, ctx) {
      const p = players.get(r.playerId);
      players.delete(r.playerId);
      return watch(r, ticket, ctx, { headers: p ? { Authorization: p.authorization } : undefined, connection: p?.connection });
    },
  };
}
