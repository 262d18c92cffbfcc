/**
 * The matchmaking store's contract: what each atomic Redis operation takes and answers.
 *
 * All state of one region lives under one hash tag (`<prefix>:{<region>}:...`), so every operation is one
 * Lua script on one hash slot (Redis Cluster safe). Calls that take a batch group it by region and make one
 * script call per region. Every operation is idempotent: repeating it (redelivery) changes nothing.
 * Times are epoch milliseconds; `now` is injectable so tests can move the clock.
 */
import type { Assignment, LeaveReason, PartyMember, PlayerState, SessionPlayer } from "../domain/types";

// Domain types the store's answers carry; they live in src/domain (the store maps Redis onto them).
export type { Assignment, LeaveResult, PlayerState, PlayerView } from "../domain/types";

/** A validated player request as the store takes it. */
export interface EnqueueRequest {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  requestedAtMs: number;
  /** The leader's skill; the store refuses a request of a skill mode without it (`skill_required`). */
  skill?: number;
  /**
   * The leader's party, other members only. The unit joins one session and one team whole; refused
   * (`party_too_large`, `party_member_live` naming the member) when it breaks the mode's rules.
   */
  party?: PartyMember[];
  /**
   * Round-trip ms per region (issue 14). A ticket of a mode with a `latency` rule waits in its zone's latency
   * pool and is placed, with a full group, in a region of `region`'s zone within the max in force
   * (lua/placeLatency.lua); in other modes latencies change nothing.
   */
  latencies?: Record<string, number>;
}

export type EnqueueResult =
  /** Joined (or opened) a session. `sessionReady` = this request filled it. */
  | {
      outcome: "queued";
      ticketId: string;
      playerId: string;
      sessionId: string;
      sessionReady: boolean;
      /** A latency mode's ticket that waits in its slot's pool (no session yet: sessionId is ""). */
      pooled?: true;
    }
  /** This ticketId was seen before (redelivery, or it already left or matched): nothing changed. */
  | { outcome: "duplicate"; ticketId: string; playerId: string; state: PlayerState | "unknown"; sessionId?: string }
  /** Refused alone, with the reason; the rest of the batch went on. */
  | { outcome: "rejected"; ticketId: string; playerId: string; error: string; detail: string; liveTicketId?: string };

export interface SessionRef {
  region: string;
  sessionId: string;
}

export interface EnqueueBatchResult {
  /** One result per request, in input order. */
  results: EnqueueResult[];
  /** Sessions this batch filled (now waiting for a server). */
  readySessions: SessionRef[];
  /**
   * Regions of the batch where a backfill fill may have work: an enqueue call there saw an open backfill
   * request (read in its atomic step), or the batch pooled latency tickets homed there (the pool does not
   * say). Elsewhere no request was open when these tickets were queued, and one opened later fills from
   * them itself (the backfill use case fills after every request), so a fill now would find nothing.
   */
  backfillRegions: string[];
}

export interface LeaveRequest {
  playerId: string;
  ticketId: string;
  region: string;
  reason: LeaveReason;
  /** Optional: recorded on the "preempted" record of a ticket that was never enqueued. */
  mode?: string;
  /**
   * Optional: the ticket's requestedAt (epoch ms). With it, a leave of a ticket the player's record no
   * longer remembers is "superseded" when the record is of a later request, instead of being taken for a
   * leave that overtook its request (which would reset the player's current record).
   */
  requestedAtMs?: number;
}

export interface AssignResult {
  region: string;
  assigned: Assignment[];
  /** Ready sessions left waiting for lack of a server (the scale-out signal), total and per mode. */
  unassignedSessions: number;
  unassignedByMode: Record<string, number>;
  serversAvailable: number;
}

export type ServerState = "available" | "allocated";

export interface ServerRecord {
  serverId: string;
  region: string;
  address: string;
  state: ServerState;
  sessionId?: string;
  registeredAtMs: number;
  lastHeartbeatMs: number;
  leaseExpiresAtMs: number;
  gamesServed: number;
  /** While allocated and not yet confirmed: the server must heartbeat or ack before this (the claim window). */
  claimExpiresAtMs?: number;
  /** While allocated: when the server confirmed the claim. From then on its death is `serverLost` for the players. */
  confirmedAtMs?: number;
}

export interface ServerAllocation {
  server: ServerRecord;
  /** Present while allocated. */
  session?: { sessionId: string; mode: string; players: SessionPlayer[]; assignedAtMs: number };
  /** The game's open backfill request: slots per team still to fill. */
  backfill?: { backfillId: string; slots: number[]; requestedAtMs: number };
}

export type RegisterResult =
  /** `confirmedSessionId`: this heartbeat confirmed the claim of that session. */
  | { outcome: "registered" | "heartbeat"; server: ServerRecord; confirmedSessionId?: string }
  /**
   * `region_conflict` (live in another region), `address_conflict` (a live server's address is fixed),
   * `address_in_use` (another live server has this address: `heldBy`, free in `retryAfterMs` at the latest),
   * or a field error.
   */
  | { outcome: "rejected"; error: string; detail: string; heldBy?: string; region?: string; retryAfterMs?: number };

export type ReleaseResult =
  | { outcome: "released"; server: ServerRecord; endedSessionId: string }
  | { outcome: "alreadyAvailable"; server: ServerRecord }
  | { outcome: "sessionMismatch"; server: ServerRecord }
  | { outcome: "notFound" };

export type AckResult =
  | { outcome: "confirmed" | "alreadyConfirmed"; server: ServerRecord; sessionId: string }
  /** The server is not allocated (its claim expired, or it was released). */
  | { outcome: "notAllocated"; server: ServerRecord }
  | { outcome: "sessionMismatch"; server: ServerRecord }
  | { outcome: "notFound" };

export type DeregisterResult = { outcome: "removed"; region: string; endedSessionId?: string } | { outcome: "notFound" };

export interface ExpiredServer {
  serverId: string;
  wasAllocated: boolean;
  sessionId?: string;
  /** `lease`: no heartbeat in time; `claim`: allocated and not confirmed within the claim window. */
  reason: "lease" | "claim";
  /** What happened to its session: back to the front of the queue, or ended as lost (it had been confirmed). */
  session?: "requeued" | "lost" | "deleted";
}

export interface ExpireServersResult {
  region: string;
  expired: ExpiredServer[];
  /**
   * Sessions whose server died before confirming the claim. They go back to the FRONT of the ready queue
   * (same group, same sessionId) with fresh deadlines; the next server takes them and a new match-made goes out.
   */
  requeuedSessions: string[];
  /** Sessions whose server died after confirming: the game is over, its players read `serverLostAtMs`. */
  lostSessions: string[];
}

/** What one call of the regrouping sweep did (`store.regroup(region)`). */
export interface RegroupResult {
  region: string;
  /** Sessions merged into others (now gone). */
  mergedSessions: string[];
  /** Sessions that became full (ready for a server) by regrouping under a widened window. */
  readySessions: string[];
}

export interface ExpireStaleResult {
  region: string;
  expiredPlayers: SessionPlayer[];
  expiredSessions: string[];
}

export interface RegionStats {
  region: string;
  waitingPlayers: number;
  waitingByMode: Record<string, number>;
  sessionsOpen: number;
  sessionsReady: number;
  /** Assigned sessions whose match-made message is not confirmed sent yet (outbox). */
  sessionsAnnouncing: number;
  serversAvailable: number;
  serversAllocated: number;
  oldestWaitMs: number;
  /** Time from request to assignment of recently matched players; `histogram` counts them per TIME_TO_MATCH_BOUNDS_MS bucket. */
  timeToMatchMs: { count: number; p50: number; p95: number; p99: number; max: number; histogram: { boundsMs: number[]; counts: number[] } };
  /** Players ever assigned a server in this region (a counter: its rate is matches per minute). */
  matchedPlayers: number;
  matchedByMode: Record<string, number>;
  /** Per mode (issue 11): who waits where on the skill scale, and how good and how slow recent matches were. */
  byMode?: Record<string, ModeStats>;
  /**
   * The latency pool of this region's hash slot (issue 14), on the slot's first region only (the one that
   * sweeps it): tickets of latency modes not placed in a region yet. They belong to no region until placed,
   * so they are not in this region's waitingPlayers, waitingByMode or oldestWaitMs.
   */
  latencyPool?: LatencyPoolStats;
}

/** A latency pool's figures: its tickets wait to be placed, with a full group, in one of `regions`. */
export interface LatencyPoolStats {
  /** The regions of the pool's slot, in configured order: a zone's, or one region in no zone. */
  regions: string[];
  waitingPlayers: number;
  waitingByMode: Record<string, number>;
  /** The wait of the pool's longest-waiting ticket (0 when the pool is empty). */
  oldestWaitMs: number;
}

/** A mode's figures in one region. Percentiles are over the last matches the store keeps (at most 1000). */
export interface ModeStats {
  waiting: number;
  /** Skill-mode only: waiting players per skill band, keyed by the band's lower bound (bands of SKILL_BAND_WIDTH). */
  waitingBySkillBand?: Record<string, number>;
  recentMatches: number;
  skillSpread: { p50: number; p95: number };
  teamSkillGap: { p50: number; p95: number };
  waitSeconds: { p50: number; p95: number };
}

/** Width of the skill bands of `ModeStats.waitingBySkillBand`. */
export const SKILL_BAND_WIDTH = 100;

/** One unit taken from a rate limit (fixed window, lua/rateLimit.lua), or refused. */
export interface RateLimitResult {
  allowed: boolean;
  /** Units left in the current window. */
  remaining: number;
  /** Milliseconds until the window ends: the Retry-After of a refusal. */
  resetMs: number;
}

/** A running game's request for players (backfill, issue 14): one per session, a new one replaces the old. */
export interface BackfillRequest {
  serverId: string;
  /** Without it the server is found where it lives. */
  region?: string;
  /** The session the server runs (a request for another session is refused: sessionMismatch). */
  sessionId: string;
  /** Free slots per team, in team order (a one-team mode may give one number). 1-100 players in all, each at most teamSize. */
  slots: number | number[];
  /**
   * The caller's id of this request (1-64 of [A-Za-z0-9_-]): a repeat of the session's last request with the
   * same id (a retry) is answered as it was (`repeated`) and changes nothing, also once that request was filled.
   */
  requestId?: string;
}

export type BackfillRequestResult =
  | {
      outcome: "requested";
      backfillId: string;
      sessionId: string;
      region: string;
      mode: string;
      slots: number[];
      requestedAtMs: number;
      /** The open request of the session this one replaced. */
      replacedBackfillId?: string;
      /** A repeat of the last request (same requestId): nothing changed. */
      repeated?: boolean;
    }
  /** The server runs no session (or it is not its session any more). */
  | { outcome: "notAllocated" }
  | { outcome: "sessionMismatch"; currentSessionId: string }
  /** The server's lease ran out: it is about to be retired, no players are sent to it. */
  | { outcome: "leaseExpired" }
  /** The slots do not fit the session's mode (`invalid_slots`), or its mode is no longer configured. */
  | { outcome: "rejected"; error: string; detail: string }
  | { outcome: "notFound" };

export type BackfillCancelResult =
  | { outcome: "cancelled"; backfillId: string; sessionId: string; region: string }
  /** No open request (never made, already filled, cancelled or ended). */
  | { outcome: "none"; region: string }
  | { outcome: "sessionMismatch"; currentSessionId: string }
  | { outcome: "notFound" };

/** Players who joined a running game by backfill: the game's assignment after the join, and who joined (the ones to tell). */
export type BackfillJoin = Assignment & { backfillId: string; joined: SessionPlayer[]; joinId: string };

/** What one pass of fillBackfills did in a region. */
export interface BackfillFillResult {
  region: string;
  /** One per game that got players: its assignment after the join, with `backfillId` and `joined` (the ones to tell). */
  joins: BackfillJoin[];
  /** Requests that were filled completely (and so ended). */
  completed: string[];
  /** Broken entries removed without failing the pass (session ended, not that server's, fields that do not parse, mode gone). */
  dropped: { sessionId: string; reason: string }[];
}
