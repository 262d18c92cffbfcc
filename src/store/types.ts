/**
 * The matchmaking store's contract: what each atomic Redis operation takes and answers.
 *
 * All state of one region lives under one hash tag (`<prefix>:{<region>}:...`), so every operation is one
 * Lua script on one hash slot (Redis Cluster safe). Calls that take a batch group it by region and make one
 * script call per region. Every operation is idempotent: repeating it (redelivery) changes nothing.
 * Times are epoch milliseconds; `now` is injectable so tests can move the clock.
 */
import type { LeaveReason, SessionPlayer } from "../domain/types";

export type PlayerState = "waiting" | "matched" | "left";

/** A validated player request as the store takes it. */
export interface EnqueueRequest {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  requestedAtMs: number;
}

export type EnqueueResult =
  /** Joined (or opened) a session. `sessionReady` = this request filled it. */
  | { outcome: "queued"; ticketId: string; playerId: string; sessionId: string; sessionReady: boolean }
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
}

/** A session given a server: the body of a `match-made` message, with epoch-ms time. */
export interface Assignment {
  sessionId: string;
  serverId: string;
  address: string;
  players: SessionPlayer[];
  mode: string;
  region: string;
  assignedAtMs: number;
}

export interface LeaveRequest {
  playerId: string;
  ticketId: string;
  region: string;
  reason: LeaveReason;
  /** Optional: recorded on the "preempted" record of a ticket that was never enqueued. */
  mode?: string;
}

export type LeaveResult =
  /** Slot freed (a ready session went back to open; an empty session was deleted). */
  | { outcome: "left"; playerId: string; ticketId: string; reason: LeaveReason; sessionId?: string }
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
}

export interface ServerAllocation {
  server: ServerRecord;
  /** Present while allocated. */
  session?: { sessionId: string; mode: string; players: SessionPlayer[]; assignedAtMs: number };
}

export type RegisterResult = { outcome: "registered" | "heartbeat"; server: ServerRecord } | { outcome: "rejected"; error: string; detail: string };

export type ReleaseResult =
  | { outcome: "released"; server: ServerRecord; endedSessionId: string }
  | { outcome: "alreadyAvailable"; server: ServerRecord }
  | { outcome: "sessionMismatch"; server: ServerRecord }
  | { outcome: "notFound" };

export type DeregisterResult = { outcome: "removed"; endedSessionId?: string } | { outcome: "notFound" };

export interface ExpireServersResult {
  region: string;
  expired: { serverId: string; wasAllocated: boolean; sessionId?: string }[];
  /**
   * Sessions whose server died while allocated. They go back to the FRONT of the ready queue (same group,
   * same sessionId) and their players to "waiting"; the next server takes them and a new match-made goes out.
   */
  requeuedSessions: string[];
}

export interface ExpireStaleResult {
  region: string;
  expiredPlayers: SessionPlayer[];
  expiredSessions: string[];
}

/** A player's ticket as the ticket endpoint shows it. */
export interface PlayerView {
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
  /** Time from request to assignment of recently matched players. */
  timeToMatchMs: { count: number; p50: number; p95: number; p99: number; max: number };
}
