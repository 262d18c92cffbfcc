/** JSON views the HTTP API answers with (epoch-ms store records become ISO times). */
import type { MatchOutcome, TicketStatus, SessionPlayer } from "../domain/types";
import type { PlayerView, ServerAllocation, ServerRecord } from "../store/types";
import type { TicketClaims } from "./ticketToken";

export interface TicketView {
  playerId: string;
  ticketId: string;
  status: TicketStatus;
  mode?: string;
  region?: string;
  sessionId?: string;
  serverId?: string;
  server?: string;
  players?: SessionPlayer[];
}

export function ticketFromPlayer(p: PlayerView): TicketView {
  const base = { playerId: p.playerId, ticketId: p.ticketId, mode: p.mode, region: p.region };
  switch (p.state) {
    case "waiting":
      return { ...base, status: "searching", ...(p.sessionId ? { sessionId: p.sessionId } : {}) };
    case "matched":
      return { ...base, status: "matched", sessionId: p.sessionId, serverId: p.serverId, server: p.address, players: p.players };
    default:
      return { ...base, status: p.leftReason === "cancelled" ? "cancelled" : "timedOut" };
  }
}

export function ticketFromOutcome(playerId: string, o: MatchOutcome): TicketView {
  if (o.status === "matched") {
    return { playerId, ticketId: o.ticketId, status: "matched", sessionId: o.sessionId, serverId: o.serverId, server: o.server, players: o.players };
  }
  return { playerId, ticketId: o.ticketId, status: o.status };
}

/** A ticket as its token describes it (not in the store, or not any more). */
export function ticketFromClaims(c: TicketClaims, status: TicketStatus): TicketView {
  return { playerId: c.playerId, ticketId: c.ticketId, status, mode: c.mode, region: c.region };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function serverView(s: ServerRecord): Record<string, unknown> {
  return {
    serverId: s.serverId,
    region: s.region,
    address: s.address,
    state: s.state,
    ...(s.sessionId ? { sessionId: s.sessionId } : {}),
    registeredAt: iso(s.registeredAtMs),
    lastHeartbeatAt: iso(s.lastHeartbeatMs),
    leaseExpiresAt: iso(s.leaseExpiresAtMs),
    gamesServed: s.gamesServed,
  };
}

export function allocationView(a: ServerAllocation): Record<string, unknown> {
  return {
    server: serverView(a.server),
    ...(a.session
      ? { session: { sessionId: a.session.sessionId, mode: a.session.mode, players: a.session.players, assignedAt: iso(a.session.assignedAtMs) } }
      : {}),
  };
}
