/**
 * One simulated player: asks for a match, then waits for its outcome. This is the module that player-side
 * modes plug into (push through Web PubSub, player identity with a JWT): a mode is a `PlayerClient`, and
 * `runSimulation` only calls `play`.
 *
 * The default client polls the `statusQueryGetUri` it was handed (the Durable status contract) until the
 * instance completes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpCall } from "./http";
import type { PlayerResult } from "./types";

/** The answer of POST /api/tickets that a client keeps. */
export interface TicketHandle {
  ticketId: string;
  token?: string;
  ticketUri?: string;
  statusQueryGetUri: string;
  /** The push client URL handed out with the ticket, if any. */
  pushUrl?: string;
}

export interface PlayerContext {
  call: HttpCall;
  pollMs: number;
  /** Epoch ms after which a player stops waiting. */
  deadline: number;
  /** The player's poll is staggered by this much so that players do not all poll together. */
  firstPollDelayMs: number;
  /** Told once a player sees its match (the game servers start "playing"). */
  onMatched(r: PlayerResult): void;
}

/** A way of being a player. */
export interface PlayerClient {
  /** Extra headers of the ticket request (e.g. Authorization for the identity mode). */
  ticketHeaders?(r: PlayerResult): Promise<Record<string, string>> | Record<string, string>;
  /** Waits for the outcome of a ticket and records it on `r` (status, match, timeToMatchMs is set by `play`). */
  awaitOutcome(r: PlayerResult, ticket: TicketHandle, ctx: PlayerContext): Promise<void>;
}

/** A ticket in hand, and when its request left the client (time to match counts from there). */
export interface Requested {
  ticket: TicketHandle;
  requestedAt: number;
  /** A party ticket: every member's own handle (the leader's too), by playerId. */
  members?: Map<string, TicketHandle>;
}

/** Requests a ticket; returns it, or records on `r` why it failed. */
export async function requestTicket(
  r: PlayerResult,
  ctx: PlayerContext,
  client: PlayerClient,
  party: { playerId: string; skill?: number }[] = [],
): Promise<Requested | undefined> {
  const headers = (await client.ticketHeaders?.(r)) ?? {};
  let requestedAt: number | undefined;
  const res = await ctx.call("tickets", "POST", "/api/tickets", {
    body: {
      playerId: r.playerId,
      mode: r.mode,
      region: r.region,
      ...(r.skill === undefined ? {} : { skill: r.skill }),
      ...(party.length ? { party } : {}),
      ...(r.latencies ? { latencies: r.latencies } : {}),
    },
    headers,
    onSend: () => (requestedAt ??= Date.now()),
  });
  const body = res.json as Partial<TicketHandle> | undefined;
  if (res.status !== 202 || !body?.statusQueryGetUri || !body.ticketId) {
    r.status = "failed";
    r.error = `POST /api/tickets answered ${res.status}: ${JSON.stringify(res.json)}`;
    return undefined;
  }
  r.ticketId = body.ticketId;
  r.ticketAt = Date.now();
  const ticketId = body.ticketId;
  const listed =
    (res.json as { members?: { playerId: string; token: string; ticketUri: string; statusQueryGetUri: string; pushUrl?: string }[] }).members ?? [];
  return {
    ticket: { ticketId, token: body.token, ticketUri: body.ticketUri, statusQueryGetUri: body.statusQueryGetUri, pushUrl: body.pushUrl },
    requestedAt: requestedAt ?? Date.now(),
    ...(party.length
      ? {
          members: new Map(
            listed.map((m) => [m.playerId, { ticketId, token: m.token, ticketUri: m.ticketUri, statusQueryGetUri: m.statusQueryGetUri, pushUrl: m.pushUrl }]),
          ),
        }
      : {}),
  };
}

/** Records a Durable `matchRequest` output (or the ticket status, which has the same fields) on the player. */
export function recordOutcome(r: PlayerResult, out: Record<string, unknown>): void {
  r.finishedAt = Date.now();
  if (out.status === "matched") {
    r.status = "matched";
    r.sessionId = String(out.sessionId);
    r.serverId = String(out.serverId);
    r.server = String(out.server);
    r.players = out.players as PlayerResult["players"];
    if (Array.isArray(out.teams)) r.teams = out.teams as PlayerResult["teams"];
    if (typeof out.team === "number") r.team = out.team;
    if (out.quality && typeof out.quality === "object") r.quality = out.quality as PlayerResult["quality"];
    if (typeof out.latencyMs === "number") r.latencyMs = out.latencyMs;
  } else r.status = out.status === "cancelled" ? "cancelled" : "timedOut";
}

/** The default client: polls the status URI it was given until the instance is no longer running. */
export const pollingClient: PlayerClient = {
  async awaitOutcome(r, ticket, ctx) {
    await sleep(ctx.firstPollDelayMs);
    while (r.status === "unfinished" && Date.now() < ctx.deadline) {
      r.polls++;
      const res = await ctx.call("polls", "GET", ticket.statusQueryGetUri).catch(() => undefined);
      const body = res?.json as { runtimeStatus?: string; output?: Record<string, unknown> } | undefined;
      if (res?.status === 200 && body?.runtimeStatus) {
        if (body.runtimeStatus !== "Completed") {
          r.status = "failed";
          r.error = `instance ${body.runtimeStatus}`;
          return;
        }
        recordOutcome(r, body.output ?? {});
        return;
      }
      await sleep(ctx.pollMs);
    }
  },
};

/** The second half of a player's life: wait for the outcome; on a match, its time to match and the servers are told. */
export async function awaitMatch(r: PlayerResult, requested: Requested, ctx: PlayerContext, client: PlayerClient = pollingClient): Promise<void> {
  await client.awaitOutcome(r, requested.ticket, ctx);
  if (r.status === "matched") {
    r.timeToMatchMs = (r.finishedAt ?? Date.now()) - requested.requestedAt;
    ctx.onMatched(r);
  }
}
