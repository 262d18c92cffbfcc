/**
 * The matchmaker's vocabulary. Pure types: no Azure, no Redis.
 * Message shapes here are the wire contracts of DESIGN.md section 3; their JSON Schemas live in src/schemas.
 */
import type { MatchQuality, Team } from "./modeRules";

export type { MatchQuality, Team } from "./modeRules";

/** A party member other than the leader (DESIGN.md section 6 "Tickets"). */
export interface PartyMember {
  playerId: string;
  /** Required when the mode matches by skill. */
  skill?: number;
}

/**
 * What a match adds for modes with teams or skill (DESIGN.md section 6): `teams` in team order, and the
 * match's quality. Absent for plain FIFO modes, so their messages stay as they were.
 */
export interface MatchRulesOutcome {
  teams?: Team[];
  quality?: MatchQuality;
}

/** `player-requests` Event Hub message. */
export interface PlayerRequest {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  /** ISO-8601 UTC time the client asked for a match. */
  requestedAt: string;
  /** The leader's skill; required when the mode matches by skill. */
  skill?: number;
  /**
   * The other members of the leader's party (not the leader). The whole party is one unit in matching and
   * shares the ticketId; each member has its own orchestrator, status and token.
   */
  party?: PartyMember[];
  /**
   * Round-trip milliseconds to regions, as the client measured them (issue 14). In a mode with a `latency` rule
   * the ticket is placed in a region of its home region's zone within the max in force; `region` is its home.
   */
  latencies?: Record<string, number>;
}

export interface SessionPlayer {
  playerId: string;
  ticketId: string;
}

/** `match-made` Event Hub message: one per session given a server. */
export interface MatchMade extends MatchRulesOutcome {
  sessionId: string;
  serverId: string;
  /** host:port the players connect to. */
  address: string;
  players: SessionPlayer[];
  mode: string;
  region: string;
  assignedAt: string;
  /** Present when the session's previous server died before confirming it: this server replaces that one (push `serverChanged`). */
  previousServerId?: string;
  /**
   * Backfill (a running game asked for players): the request, and the players who joined by it. Only they are
   * told (ServerReady, push `matched`); `players` is everyone in the game now.
   */
  backfillId?: string;
  joined?: SessionPlayer[];
  /** Latency modes (issue 14): each player's reported latency (ms) to `region`, the region the match was placed in. */
  playerLatencies?: Record<string, number>;
}

/** Input of the `matchRequest` orchestrator (instanceId = playerId). */
export interface MatchRequestInput {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  timeoutSeconds: number;
  /** When the player asked (ISO 8601): the start of its time to match. */
  requestedAt?: string;
  /** W3C traceparent of the ticket's trace, so the orchestration and its activity join it. */
  traceparent?: string;
}

export type MatchOutcome =
  | ({
      status: "matched";
      ticketId: string;
      sessionId: string;
      serverId: string;
      /** host:port */
      server: string;
      players: SessionPlayer[];
      /** With teams: the index in `teams` of this player's team. */
      team?: number;
      /** Latency modes: this player's latency (ms) to the match's region. */
      latencyMs?: number;
    } & MatchRulesOutcome)
  | {
      status: "timedOut" | "cancelled";
      ticketId: string;
      /** Cancelled because the intake refused the ticket (e.g. `party_member_live`): why, for the player. */
      refusal?: ErrorBody;
    };

/** What the ticket endpoint reports. */
/** `waitingForPlayers`: a party ticket under PLAYER_AUTH=jwt whose members have not all accepted yet. */
export type TicketStatus = "waitingForPlayers" | "searching" | "matched" | "timedOut" | "cancelled" | "serverLost";

/** Why a player left the queue. `expired` is the sweeper's safety net for lost orchestrators. */
export type LeaveReason = "timedOut" | "cancelled" | "expired";

/** Error body of every 4xx answer, and the reason attached to a rejected message. */
export interface ErrorBody {
  error: string;
  detail: string;
}

/** Where a player's ticket stands in the store. */
export type PlayerState = "waiting" | "matched" | "left";

/** A session given a server: the body of a `match-made` message, with epoch-ms time. */
export interface Assignment extends MatchRulesOutcome {
  sessionId: string;
  serverId: string;
  address: string;
  players: SessionPlayer[];
  mode: string;
  region: string;
  assignedAtMs: number;
  /** Backfill joins: the request and the players who joined the running game by it (the ones to tell). */
  backfillId?: string;
  joined?: SessionPlayer[];
  /** Latency modes (issue 14): each player's reported latency (ms) to `region`, the region chosen. */
  playerLatencies?: Record<string, number>;
}

/** What leaving the queue did: the store decides the race between a leave and an assignment. */
export type LeaveResult =
  /**
   * Slot freed (a ready session went back to open; an empty session was deleted). `partyMembers`: the other
   * members of the player's party, who left with it (a party leaves whole; their orchestrators get Cancel).
   */
  | { outcome: "left"; playerId: string; ticketId: string; reason: LeaveReason; sessionId?: string; partyMembers?: string[] }
  /** Already left earlier (any reason): nothing changed. */
  | { outcome: "alreadyLeft"; playerId: string; ticketId: string; reason: LeaveReason }
  /** The session already has a server: the player is matched, the leave lost the race. */
  | { outcome: "assigned"; playerId: string; ticketId: string; assignment: Assignment }
  /** The ticket was never enqueued (the leave overtook the request): recorded, so a late enqueue is a no-op. */
  | { outcome: "preempted"; playerId: string; ticketId: string; reason: LeaveReason }
  /** The player has a newer ticket; this stale ticket changes nothing. */
  | { outcome: "superseded"; playerId: string; ticketId: string }
  /** Bad input (field validation): refused alone, with the reason; the rest of the batch went on. */
  | { outcome: "rejected"; playerId: string; ticketId: string; error: string; detail: string };

/** A player's ticket as the store holds it. */
export interface PlayerView extends MatchRulesOutcome {
  playerId: string;
  ticketId: string;
  mode: string;
  region: string;
  state: PlayerState;
  leftReason?: LeaveReason;
  requestedAtMs: number;
  sessionId?: string;
  /** When matched. */
  serverId?: string;
  address?: string;
  players?: SessionPlayer[];
  /**
   * Present when the game server of the player's match died after confirming it (its lease ran out, or a new
   * server took over its address): the game is over and the player is not requeued. Ticket status `serverLost`.
   */
  serverLostAtMs?: number;
  skill?: number;
  /** Party tickets: every member's playerId, the leader first (the same list on each member's record). */
  party?: string[];
  /** With teams, once matched: the index in `teams` of this player's team. */
  team?: number;
  /** Placed by latency (issue 14): this player's reported latency (ms) to the region it was placed in. */
  latencyMs?: number;
}
