/** JSON views of the game-server records (epoch-ms store records become ISO times). */
import type { ServerAllocation, ServerRecord } from "../../store/types";

const iso = (ms: number): string => new Date(ms).toISOString();

export function serverView(s: ServerRecord): Record<string, unknown> {
  return {
    serverId: s.serverId,
    region: s.region,
    address: s.address,
    state: s.state,
    ...(s.sessionId ? { sessionId: s.sessionId } : {}),
    ...(s.claimExpiresAtMs !== undefined ? { claimExpiresAt: iso(s.claimExpiresAtMs) } : {}),
    ...(s.confirmedAtMs !== undefined ? { confirmedAt: iso(s.confirmedAtMs) } : {}),
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
    ...(a.backfill ? { backfill: { backfillId: a.backfill.backfillId, slots: a.backfill.slots, requestedAt: iso(a.backfill.requestedAtMs) } } : {}),
  };
}
