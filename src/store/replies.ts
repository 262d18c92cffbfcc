/**
 * The reply shape of every Lua script of src/store/lua, one entry per script file (the `Reply` line of
 * each file's header says the same in words). The keys of SCRIPT_REPLIES are the script names: the loader
 * refuses to start when the .lua files and these keys differ (and test/store/scriptsAndConnection.test.ts
 * checks it), so ScriptName is the set of files, checked by tsc wherever a script is called.
 */
import { bool, dict, intText, list, literal, num, obj, optional, str, tagged, type Decoded } from "./replyDecoder";

const leaveReason = literal("timedOut", "cancelled", "expired");
const player = obj({ playerId: str, ticketId: str });

export const assignmentReply = obj({
  sessionId: str,
  serverId: str,
  address: str,
  players: list(player),
  mode: str,
  region: str,
  assignedAt: num,
});
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
});
export type ServerReply = Decoded<typeof serverReply>;

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
  }),
  leaveQueue: obj({
    results: list(
      tagged("outcome", {
        left: obj({ reason: leaveReason, sessionId: optional(str) }),
        alreadyLeft: obj({ reason: leaveReason }),
        assigned: obj({ assignment: assignmentReply }),
        preempted: obj({ reason: leaveReason }),
        superseded: obj({}),
      }),
    ),
  }),
  assignSessions: obj({ assigned: list(assignmentReply), unassigned: num, unassignedByMode: dict(num), serversAvailable: num }),
  claimUnannounced: obj({ assignments: list(assignmentReply) }),
  confirmAnnounced: obj({ removed: num }),
  registerServer: tagged("outcome", {
    registered: obj({ server: serverReply }),
    heartbeat: obj({ server: serverReply }),
    rejected: obj({ error: str, detail: str }),
  }),
  releaseServer: tagged("outcome", {
    released: obj({ server: serverReply, endedSessionId: str }),
    alreadyAvailable: obj({ server: serverReply }),
    sessionMismatch: obj({ server: serverReply }),
    notFound: obj({}),
  }),
  deregisterServer: tagged("outcome", { removed: obj({ endedSessionId: optional(str) }), notFound: obj({}) }),
  expireServers: obj({ expired: list(obj({ serverId: str, wasAllocated: bool, sessionId: optional(str) })), requeued: list(str) }),
  expireStale: obj({ players: list(player), sessions: list(str) }),
  readPlayer: obj({ found: bool, player: optional(dict(str)), assignment: optional(assignmentReply) }),
  readServer: obj({ found: bool, server: optional(serverReply), assignment: optional(assignmentReply) }),
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
  }),
};

export type ScriptName = keyof typeof SCRIPT_REPLIES;
export type ScriptReply<N extends ScriptName> = Decoded<(typeof SCRIPT_REPLIES)[N]>;
