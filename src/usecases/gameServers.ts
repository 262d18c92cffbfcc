/**
 * The game-server API as use cases: register/heartbeat, ack, release, deregister, allocation and the pool.
 * A serverId is one server wherever it is: calls without a region act on the server where it lives (the
 * store's global server index); a new server goes to the region it names, else the default region.
 * Refusals are thrown as Refusal (conflict = 409, notFound = 404, invalid = 400); answers are the store's records.
 */
import type { AckResult, RegisterResult, ReleaseResult, ServerAllocation, ServerRecord } from "../store";
import { refuse } from "./errors";
import type { Ports } from "./ports";

export type GameServerPorts = Pick<Ports, "store" | "settings">;

/** A server call may name the region; without one it acts where the server lives. */
export interface ServerRef {
  serverId: string;
  region?: string;
}

const notFound = (r: ServerRef) =>
  refuse("notFound", "server_not_found", r.region ? `no server ${r.serverId} in ${r.region}` : `no server ${r.serverId} is registered`);

/** Refusals of a registration that conflict with live state (409), as opposed to bad fields (400). */
const REGISTER_CONFLICTS: readonly string[] = ["region_conflict", "address_conflict", "address_in_use"];

export type Registered = Exclude<RegisterResult, { outcome: "rejected" }> & { leaseSeconds: number; claimSeconds: number };

/**
 * `PUT /api/servers/{serverId}` {address, region?}: registered (new) or heartbeat. Without `region` a known
 * server is found where it lives, a new one goes to the default region. A heartbeat confirms a pending claim.
 */
export async function registerServer(p: GameServerPorts, i: ServerRef & { address: string }): Promise<Registered> {
  const r = await p.store.registerServer({
    serverId: i.serverId,
    address: i.address,
    defaultRegion: p.settings.defaultRegion,
    ...(i.region !== undefined ? { region: i.region } : {}),
  });
  if (r.outcome === "rejected") {
    const extra: Record<string, unknown> = {};
    if (r.heldBy) extra.heldBy = r.heldBy;
    if (r.region) extra.region = r.region;
    if (r.retryAfterMs !== undefined) extra.retryAfterSeconds = Math.ceil(r.retryAfterMs / 1000);
    throw refuse(REGISTER_CONFLICTS.includes(r.error) ? "conflict" : "invalid", r.error, r.detail, extra);
  }
  return { ...r, leaseSeconds: p.settings.serverLeaseSeconds, claimSeconds: p.settings.serverClaimSeconds };
}

/** `POST /api/servers/{serverId}/ack` {sessionId?}: the server confirms the session it was claimed for. */
export async function acknowledgeServer(p: GameServerPorts, i: ServerRef & { sessionId?: string }): Promise<Extract<AckResult, { sessionId: string }>> {
  const r = await p.store.ackServer(i);
  switch (r.outcome) {
    case "notFound":
      throw notFound(i);
    case "notAllocated":
      throw refuse("conflict", "not_allocated", `server ${i.serverId} has no session to confirm (its claim window may have passed, or it was released)`);
    case "sessionMismatch":
      throw refuse(
        "conflict",
        "session_mismatch",
        `server ${i.serverId} was claimed for ${r.server.sessionId ?? "another session"}, not ${i.sessionId ?? ""}`,
        {
          currentSessionId: r.server.sessionId,
        },
      );
    default:
      return r;
  }
}

/** `POST /api/servers/{serverId}/release` {sessionId?}: the game ended, the server goes back to the pool. */
export async function releaseServer(
  p: GameServerPorts,
  i: ServerRef & { sessionId?: string },
): Promise<Exclude<ReleaseResult, { outcome: "notFound" | "sessionMismatch" }>> {
  const r = await p.store.releaseServer(i);
  switch (r.outcome) {
    case "notFound":
      throw notFound(i);
    case "sessionMismatch":
      throw refuse("conflict", "session_mismatch", `server ${i.serverId} does not run session ${i.sessionId ?? ""}`, { currentSessionId: r.server.sessionId });
    default:
      return r;
  }
}

/** `DELETE /api/servers/{serverId}`: the server leaves the pool (its session, if any, ends). */
export async function deregisterServer(p: GameServerPorts, i: ServerRef): Promise<{ region: string; endedSessionId?: string }> {
  const r = await p.store.deregisterServer(i);
  if (r.outcome === "notFound") throw notFound(i);
  return { region: r.region, ...(r.endedSessionId ? { endedSessionId: r.endedSessionId } : {}) };
}

/** `GET /api/servers/{serverId}/allocation`: the server and, while allocated, its session and players. */
export async function serverAllocation(p: GameServerPorts, i: ServerRef): Promise<ServerAllocation> {
  const a = await p.store.getServer(i.region, i.serverId);
  if (!a) throw notFound(i);
  return a;
}

/** `GET /api/servers`: the pool of the given regions. */
export async function listServers(p: GameServerPorts, regions: readonly string[]): Promise<ServerRecord[]> {
  return (await Promise.all(regions.map((r) => p.store.listServers(r)))).flat();
}
