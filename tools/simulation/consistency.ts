/**
 * What every simulation checks at the end: every session full, on one server, in one bucket, nobody twice.
 * A session's region is its id's (`<region>.<seq>`): a ticket that named its region only is matched there, a
 * ticket that reported latencies in a region it reported.
 */
import type { PlayerResult, SessionSeen } from "./types";

const regionOfSession = (sessionId: string): string => sessionId.slice(0, sessionId.lastIndexOf("."));

export function sessionsSeen(results: PlayerResult[]): { sessions: Map<string, SessionSeen>; problems: string[] } {
  const problems: string[] = [];
  const sessions = new Map<string, SessionSeen>();
  const seen = new Set<string>();
  for (const r of results.filter((x) => x.status === "matched")) {
    const s = sessions.get(r.sessionId!);
    const roster = (r.players ?? []).map((p) => p.playerId).sort();
    if (!roster.includes(r.playerId)) problems.push(`${r.playerId} is not in the roster of its own session ${r.sessionId}`);
    const region = regionOfSession(r.sessionId!);
    if (r.latencies ? !Object.hasOwn(r.latencies, region) : region !== r.region)
      problems.push(`${r.playerId} (${r.region}${r.latencies ? ", reported " + Object.keys(r.latencies).join("/") : ""}) was matched in ${region}`);
    if (!s) sessions.set(r.sessionId!, { serverId: r.serverId!, mode: r.mode, region, players: roster });
    else {
      if (s.serverId !== r.serverId) problems.push(`session ${r.sessionId} is on two servers: ${s.serverId} and ${r.serverId}`);
      if (s.players.join() !== roster.join()) problems.push(`players of session ${r.sessionId} disagree on its roster`);
      if (s.mode !== r.mode) problems.push(`session ${r.sessionId} mixes modes`);
    }
    if (seen.has(r.playerId)) problems.push(`${r.playerId} matched twice`);
    seen.add(r.playerId);
  }
  return { sessions, problems };
}

export function sessionProblems(sessions: Map<string, SessionSeen>, modes: Record<string, number>): string[] {
  const problems: string[] = [];
  const inSessions = new Map<string, string>();
  for (const [id, s] of sessions) {
    const size = Object.hasOwn(modes, s.mode) ? modes[s.mode] : undefined;
    if (s.players.length !== size) problems.push(`session ${id} has ${s.players.length} players, mode ${s.mode} needs ${size}`);
    for (const p of s.players) {
      if (inSessions.has(p)) problems.push(`${p} is in sessions ${inSessions.get(p)} and ${id}`);
      inSessions.set(p, id);
    }
  }
  return problems;
}
