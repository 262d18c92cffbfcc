/**
 * The reply shape of every Lua script of src/store/lua, one entry per script file (the `Reply` line of
 * each file's header says the same in words). The keys of SCRIPT_REPLIES are the script names: the loader
 * refuses to start when the .lua files and these keys differ (and test/store/scriptsAndConnection.test.ts
 * checks it), so ScriptName is the set of files, checked by tsc wherever a script is called.
 */
import { bool, dict, intText, list, literal, num, obj, optional, str, tagged, type Decoded } from "./replyDecoder";

const leaveReason = literal("timedOut", "cancelled", "expired");
const player = obj({ playerId: str, ticketId: str });

/** The quality of a match of a rules mode (lua/includes/rules_session.lua). */
export const qualityReply = obj({ skillSpread: num, teamSkillGap: num, waitSeconds: num });
export const teamsReply = list(obj({ players: list(str) }));

const assignmentShape = {
  sessionId: str,
  serverId: str,
  address: str,
  players: list(player),
  mode: str,
  region: str,
  assignedAt: num,
  teams: optional(teamsReply),
  quality: optional(qualityReply),
  /** Latency modes (issue 14): each member's latency (ms) to the session's region, as it was placed. */
  playerLatencies: optional(dict(num)),
};
export const assignmentReply = obj(assignmentShape);
export type AssignmentReply = Decoded<typeof assignmentReply>;

export const serverReply = obj({
  serverId: optional(str),
  address: str,
  state: literal("available", "allocated"),
  sessionId: optional(str),
  registeredAt: num,
  lastHeartbeat: num,
  leaseExpiresAt: num,
  gamesServed: num,
  /** The claim token of the global server index this record was written under (absent: written before tokens). */
  token: optional(num),
  claimExpiresAt: optional(num),
  confirmedAt: optional(num),
});
export type ServerReply = Decoded<typeof serverReply>;

/** A region record a server script took out of its region (the global index forgets it by token). */
const expiredServer = obj({
  serverId: str,
  token: num,
  address: str,
  wasAllocated: bool,
  sessionId: optional(str),
  reason: literal("lease", "claim"),
  session: optional(literal("requeued", "lost", "deleted")),
});
export type ExpiredServerReply = Decoded<typeof expiredServer>;

/** An entry of the global server index (hash Where), as locate() reads it. */
export const serverIndexEntry = obj({ region: str, token: num, address: str, leaseExpiresAt: num });

/** A backfill join (lua/fillBackfills.lua): the session's assignment after it, and who joined. */
export const backfillJoinReply = obj({
  ...assignmentShape,
  backfillId: str,
  joinId: str,
  joined: list(player),
});
export type BackfillJoinReply = Decoded<typeof backfillJoinReply>;

const retireTask = obj({ serverId: str, region: str, token: num, address: str });

export const SCRIPT_REPLIES = {
  enqueuePlayers: obj({
    results: list(
      tagged("outcome", {
        queued: obj({ sessionId: str, sessionReady: bool }),
        duplicate: obj({ state: literal("waiting", "matched", "left", "unknown"), sessionId: optional(str) }),
        rejected: obj({ error: str, detail: str, liveTicketId: optional(str) }),
      }),
    ),
    ready: list(str),
    /** Open backfill requests of the region, read in the same atomic step. */
    backfills: num,
  }),
  leaveQueue: obj({
    results: list(
      tagged("outcome", {
        left: obj({ reason: leaveReason, sessionId: optional(str), partyMembers: optional(list(str)) }),
        alreadyLeft: obj({ reason: leaveReason }),
        assigned: obj({ assignment: assignmentReply }),
        preempted: obj({ reason: leaveReason }),
        superseded: obj({}),
      }),
    ),
  }),
  assignSessions: obj({ assigned: list(assignmentReply), unassigned: num, unassignedByMode: dict(num), serversAvailable: num, more: bool }),
  claimUnannounced: obj({ assignments: list(assignmentReply), more: bool }),
  confirmAnnounced: obj({ removed: num }),
  claimServer: tagged("outcome", {
    claimed: obj({ region: str, token: num, leaseExpiresAt: num, retire: list(retireTask) }),
    rejected: obj({ error: str, detail: str, heldBy: optional(str), region: optional(str), retryAfterMs: optional(num) }),
  }),
  forgetServers: obj({ forgotten: num }),
  registerServer: tagged("outcome", {
    registered: obj({ server: serverReply }),
    heartbeat: obj({ server: serverReply, confirmedSessionId: optional(str) }),
    fenced: obj({}),
    rejected: obj({ error: str, detail: str }),
  }),
  retireServer: tagged("outcome", { retired: obj({ expired: expiredServer }), absent: obj({}), newer: obj({}) }),
  ackServer: tagged("outcome", {
    confirmed: obj({ server: serverReply, sessionId: str }),
    alreadyConfirmed: obj({ server: serverReply, sessionId: str }),
    notAllocated: obj({ server: serverReply }),
    sessionMismatch: obj({ server: serverReply }),
    notFound: obj({}),
  }),
  releaseServer: tagged("outcome", {
    released: obj({ server: serverReply, endedSessionId: str }),
    alreadyAvailable: obj({ server: serverReply }),
    sessionMismatch: obj({ server: serverReply }),
    notFound: obj({}),
  }),
  deregisterServer: tagged("outcome", { removed: obj({ token: num, address: str, endedSessionId: optional(str) }), notFound: obj({}) }),
  expireServers: obj({ expired: list(expiredServer), more: bool }),
  expireStale: obj({ players: list(player), sessions: list(str), more: bool }),
  regroupSessions: obj({ merged: list(str), ready: list(str), moved: num, more: bool, cursor: num }),
  requestBackfill: tagged("outcome", {
    requested: obj({
      backfillId: str,
      sessionId: str,
      mode: str,
      slots: list(num),
      requestedAt: num,
      replacedBackfillId: optional(str),
      repeated: optional(bool),
    }),
    notAllocated: obj({}),
    sessionMismatch: obj({ currentSessionId: str }),
    leaseExpired: obj({}),
    rejected: obj({ error: str, detail: str }),
    notFound: obj({}),
  }),
  cancelBackfill: tagged("outcome", {
    cancelled: obj({ backfillId: str, sessionId: str }),
    none: obj({}),
    sessionMismatch: obj({ currentSessionId: str }),
    notFound: obj({}),
  }),
  fillBackfills: obj({
    joins: list(backfillJoinReply),
    dropped: list(obj({ sessionId: str, reason: str })),
    completed: list(str),
    cursor: num,
    more: bool,
  }),
  claimBackfillJoins: obj({ joins: list(backfillJoinReply), more: bool }),
  confirmBackfillJoins: obj({ removed: num }),
  rateLimit: obj({ allowed: bool, remaining: num, resetMs: num }),
  poolLatencyTickets: obj({
    results: list(
      tagged("outcome", {
        queued: obj({ sessionId: str, sessionReady: bool, pooled: optional(bool) }),
        duplicate: obj({ state: literal("waiting", "matched", "left", "unknown"), sessionId: optional(str) }),
        rejected: obj({ error: str, detail: str, liveTicketId: optional(str) }),
      }),
    ),
    ready: list(list(str)),
  }),
  placeLatencyPool: obj({ ready: list(list(str)), examined: num, kept: num, more: bool }),
  leaveLatencyPool: obj({
    results: list(
      tagged("outcome", {
        left: obj({ mode: str, partyMembers: optional(list(str)) }),
        alreadyLeft: obj({ reason: leaveReason }),
        placed: obj({ region: str }),
        notPooled: obj({}),
      }),
    ),
  }),
  expireLatencyPool: obj({ players: list(player), more: bool }),
  readPlayer: obj({ found: bool, player: optional(dict(str)), assignment: optional(assignmentReply) }),
  readServer: obj({
    found: bool,
    server: optional(serverReply),
    assignment: optional(assignmentReply),
    backfill: optional(obj({ backfillId: str, slots: str, requestedAt: num })),
  }),
  readStats: obj({
    waitingByMode: dict(intText),
    waiting: num,
    sessionsOpen: num,
    sessionsReady: num,
    sessionsAnnouncing: num,
    serversAvailable: num,
    serversAllocated: num,
    oldestWaitMs: num,
    matchTimes: list(intText),
    matchedByMode: dict(intText),
    /** Per rules mode: waiting players per skill band and the recent matches' quality ([spread, gap, wait] JSON texts). */
    byMode: dict(obj({ bands: dict(intText), recent: list(str) })),
    /** The slot's latency pool, for the region that reports it (issue 14). */
    latencyPool: optional(obj({ waitingByMode: dict(intText), oldestWaitMs: num })),
  }),
};

export type ScriptName = keyof typeof SCRIPT_REPLIES;
export type ScriptReply<N extends ScriptName> = Decoded<(typeof SCRIPT_REPLIES)[N]>;
