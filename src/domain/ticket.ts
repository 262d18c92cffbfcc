/** A ticket's status as clients see it, from whichever source knows it (store record, orchestration outcome, token). */
import type { ErrorBody, MatchOutcome, MatchQuality, PlayerView, SessionPlayer, Team, TicketStatus } from "./types";

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
  /** Party tickets: every member, the leader first. */
  party?: string[];
  /** Matched in a mode with teams: the teams in order, and this player's index in them. */
  teams?: Team[];
  team?: number;
  quality?: MatchQuality;
  /** Matched by latency (issue 14): this player's reported latency (ms) to `region`, where it was matched. */
  latencyMs?: number;
  /** waitingForPlayers: the members who have not accepted the party ticket yet. */
  pending?: string[];
  /** Cancelled because the matchmaker refused the ticket at intake (e.g. `party_member_live`): why. */
  refusal?: ErrorBody;
}

/** What a ticket token names. */
export interface TicketRef {
  ticketId: string;
  playerId: string;
  region: string;
  mode: string;
}

export function ticketFromPlayer(p: PlayerView): TicketView {
  const base = { playerId: p.playerId, ticketId: p.ticketId, mode: p.mode, region: p.region, ...(p.party ? { party: p.party } : {}) };
  switch (p.state) {
    case "waiting":
      return { ...base, status: "searching", ...(p.sessionId ? { sessionId: p.sessionId } : {}) };
    case "matched":
      // The game server died after confirming the match: the game is over (DESIGN.md section 6).
      return {
        ...base,
        status: p.serverLostAtMs === undefined ? "matched" : "serverLost",
        sessionId: p.sessionId,
        serverId: p.serverId,
        server: p.address,
        players: p.players,
        ...matchRules(p),
        ...(p.latencyMs !== undefined ? { latencyMs: p.latencyMs } : {}),
      };
    default:
      return { ...base, status: p.leftReason === "cancelled" ? "cancelled" : "timedOut" };
  }
}

export function ticketFromOutcome(playerId: string, o: MatchOutcome): TicketView {
  if (o.status === "matched") {
    return {
      playerId,
      ticketId: o.ticketId,
      status: "matched",
      sessionId: o.sessionId,
      serverId: o.serverId,
      server: o.server,
      players: o.players,
      ...matchRules(o),
      ...(o.latencyMs !== undefined ? { latencyMs: o.latencyMs } : {}),
    };
  }
  return { playerId, ticketId: o.ticketId, status: o.status, ...(o.refusal ? { refusal: o.refusal } : {}) };
}

/** A ticket as its token describes it (not in the store, or not any more). */
export function ticketFromRef(c: TicketRef, status: TicketStatus): TicketView {
  return { playerId: c.playerId, ticketId: c.ticketId, status, mode: c.mode, region: c.region };
}

/** teams, team and quality, where the match has them. */
function matchRules(m: Pick<TicketView, "teams" | "team" | "quality">): Pick<TicketView, "teams" | "team" | "quality"> {
  return { ...(m.teams ? { teams: m.teams } : {}), ...(m.team !== undefined ? { team: m.team } : {}), ...(m.quality ? { quality: m.quality } : {}) };
}
