/** Assignments as the scripts answer them (epoch-ms `assignedAt`) turned into the domain's Assignment. */
import type { Assignment } from "../domain/types";
import type { AssignmentReply } from "./replies";

export function toAssignment(a: AssignmentReply): Assignment {
  return {
    sessionId: a.sessionId,
    serverId: a.serverId,
    address: a.address,
    players: a.players.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId })),
    mode: a.mode,
    region: a.region,
    assignedAtMs: a.assignedAt,
    ...(a.teams ? { teams: a.teams.map((t) => ({ players: [...t.players] })) } : {}),
    ...(a.quality ? { quality: { ...a.quality } } : {}),
    ...(a.playerLatencies ? { playerLatencies: playerLatenciesOf(a) } : {}),
  };
}

/** The latencies of the players an assignment has (issue 14; a requeued session may have lost some since it was placed). */
function playerLatenciesOf(a: AssignmentReply): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of a.players) if (a.playerLatencies && Object.hasOwn(a.playerLatencies, p.playerId)) out[p.playerId] = a.playerLatencies[p.playerId]!;
  return out;
}
