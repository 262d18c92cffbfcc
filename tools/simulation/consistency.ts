/** What every simulation checks at the end: every session full, on one server, in one bucket, nobody twice. */
import type { PlayerResult, SessionSeen } from "./types";

export function sessionsSeen(results: PlayerResult[]): { sessions: Map<string, SessionSeen>; problems: string[] } {
  const problems: string[] = [];
  const sessions = new Map<string, SessionSeen>();
  const seen = new Set<string>();
  for (const r of results.filter((x) => x.status === "matched")) {
    const s = sessions.get(r.sessionId!);
    const roster = (r.players ?? []).map((p) => p.playerId).sort();
    if (!roster.includes(r.playerId)) problems.push(`${r.playerId} is not in the roster of its own session ${r.sessionId}`);
    if (!s) sessions.set(r.sessionId!, { serverId: r.serverId!, mode: r.mode, region: r.region, players: roster });
    else {
      if (s.serverId !== r.serverId) problems.push(`session ${r.sessionId} is on two servers: ${s.serverId} and ${r.serverId}`);
      if (s.players.join() !== roster.join()) problems.push(`players of session ${r.sessionId} disagree on its roster`);
      if (s.mode !== r.mode || s.region !== r.region) problems.push(`session ${r.sessionId} mixes buckets`);
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
