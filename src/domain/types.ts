/**
 * The matchmaker's vocabulary. Pure types: no Azure, no Redis.
 * Message shapes here are the wire contracts of DESIGN.md section 3; their JSON Schemas live in src/schemas.
 */

/** `player-requests` Event Hub message. */
export interface PlayerRequest {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  /** ISO-8601 UTC time the client asked for a match. */
  requestedAt: string;
}

export interface SessionPlayer {
  playerId: string;
  ticketId: string;
}

/** `match-made` Event Hub message: one per session given a server. */
export interface MatchMade {
  sessionId: string;
  serverId: string;
  /** host:port the players connect to. */
  address: string;
  players: SessionPlayer[];
  mode: string;
  region: string;
  assignedAt: string;
}

/** Input of the `matchRequest` orchestrator (instanceId = playerId). */
export interface MatchRequestInput {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  timeoutSeconds: number;
}

export type MatchOutcome =
  | {
      status: "matched";
      ticketId: string;
      sessionId: string;
      serverId: string;
      /** host:port */
      server: string;
      players: SessionPlayer[];
    }
  | { status: "timedOut" | "cancelled"; ticketId: string };

/** What the ticket endpoint reports. */
export type TicketStatus = "searching" | "matched" | "timedOut" | "cancelled";

/** Why a player left the queue. `expired` is the sweeper's safety net for lost orchestrators. */
export type LeaveReason = "timedOut" | "cancelled" | "expired";

/** Error body of every 4xx answer, and the reason attached to a rejected message. */
export interface ErrorBody {
  error: string;
  detail: string;
}
