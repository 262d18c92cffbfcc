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
  };
}
