/**
 * Backfill of running games (issue 14, DESIGN.md section 6): a game server that lost players asks for
 * replacements; waiting tickets that fit its session join it before they can start new sessions, and are
 * told the server at once the way a new match is told (match-made with `joined`: their orchestrators get
 * ServerReady, push users `matched`).
 *
 * fillAndAnnounce runs before every assignment (the intake after a batch whose enqueue saw an open request in
 * the region, the sweep every tick, and a request itself), so a fitting ticket joins within one batch of
 * arriving. The joins go through their own outbox: a failed send is re-published by the sweep
 * (republishBackfillJoins).
 */
import type { BackfillJoin, BackfillRequest } from "../store/types";
import { announce, type AnnounceResult } from "./announce";
import { refuse } from "./errors";
import type { Ports } from "./ports";

type BackfillPorts = Pick<Ports, "settings" | "store" | "publisher" | "log">;

/** A send younger than this may still be in flight in another invocation (as OUTBOX_GRACE_MS for sessions). */
const JOIN_OUTBOX_GRACE_MS = 10_000;
const JOIN_OUTBOX_MAX = 500;

export interface BackfillOpened {
  backfillId: string;
  sessionId: string;
  region: string;
  slots: number[];
  requestedAtMs: number;
  replacedBackfillId?: string;
  /** A repeat of the session's last request (same requestId): nothing changed. */
  repeated?: boolean;
  /** Players who joined at once (they were waiting when the request came). */
  joined: { playerId: string; ticketId: string }[];
}

/** Publishes joins as match-made messages (to the joined players only); confirmed in their own outbox. */
function announceJoins(p: BackfillPorts, region: string, joins: BackfillJoin[]): Promise<AnnounceResult> {
  const joinIds = new Map(joins.map((j) => [j, j.joinId]));
  return announce(p, region, joins, undefined, (sent) =>
    p.store.confirmBackfillJoins(
      region,
      sent.map((a) => joinIds.get(a as BackfillJoin) ?? ""),
    ),
  );
}

/** Waiting tickets join the region's open requests, and are told. Run it before assign (priority over new sessions). */
export async function fillAndAnnounce(p: BackfillPorts, region: string): Promise<{ joins: BackfillJoin[]; announced: AnnounceResult }> {
  const fill = await p.store.fillBackfills(region);
  for (const d of fill.dropped) p.log.warn(`backfill: dropped the broken request of session ${d.sessionId} in ${region} (${d.reason})`);
  if (fill.joins.length === 0) return { joins: [], announced: { sent: 0, failed: 0 } };
  const announced = await announceJoins(p, region, fill.joins);
  p.log.log(`backfill: ${fill.joins.reduce((n, j) => n + j.joined.length, 0)} player(s) joined ${fill.joins.length} running game(s) in ${region}`);
  return { joins: fill.joins, announced };
}

/** Re-publishes joins whose send failed earlier (the sweep). */
export async function republishBackfillJoins(p: BackfillPorts, region: string): Promise<AnnounceResult> {
  const leftover = await p.store.claimBackfillJoins(region, { olderThanMs: JOIN_OUTBOX_GRACE_MS, max: JOIN_OUTBOX_MAX });
  return leftover.length ? announceJoins(p, region, leftover) : { sent: 0, failed: 0 };
}

/**
 * `POST /api/servers/{serverId}/backfill` {sessionId, slots}: opens (or replaces) the game's request, then
 * fills it from the tickets waiting now. Refusals: 404 unknown server, 409 no session / another session /
 * lease lapsed, 400 slots the mode cannot hold.
 */
export async function requestBackfill(p: BackfillPorts, i: BackfillRequest): Promise<BackfillOpened> {
  const r = await p.store.requestBackfill(i);
  switch (r.outcome) {
    case "notFound":
      throw refuse("notFound", "server_not_found", i.region ? `no server ${i.serverId} in ${i.region}` : `no server ${i.serverId} is registered`);
    case "notAllocated":
      throw refuse("conflict", "not_allocated", `server ${i.serverId} runs no session: only a running game can ask for players`);
    case "sessionMismatch":
      throw refuse("conflict", "session_mismatch", `server ${i.serverId} runs ${r.currentSessionId}, not ${i.sessionId}`, {
        currentSessionId: r.currentSessionId,
      });
    case "leaseExpired":
      throw refuse("conflict", "lease_expired", `server ${i.serverId} missed its heartbeats (its lease ran out): heartbeat first`);
    case "rejected":
      throw refuse("invalid", r.error, r.detail);
  }
  const { joins } = await fillAndAnnounce(p, r.region);
  const joined = joins.filter((j) => j.sessionId === r.sessionId).flatMap((j) => j.joined);
  return {
    backfillId: r.backfillId,
    sessionId: r.sessionId,
    region: r.region,
    slots: r.slots,
    requestedAtMs: r.requestedAtMs,
    ...(r.replacedBackfillId ? { replacedBackfillId: r.replacedBackfillId } : {}),
    ...(r.repeated ? { repeated: true } : {}),
    joined,
  };
}

/** `DELETE /api/servers/{serverId}/backfill`: the game needs no more players. 404 when it has no open request. */
export async function cancelBackfill(
  p: BackfillPorts,
  i: { serverId: string; region?: string; sessionId?: string },
): Promise<{ backfillId: string; sessionId: string; region: string }> {
  const r = await p.store.cancelBackfill(i);
  switch (r.outcome) {
    case "notFound":
      throw refuse("notFound", "server_not_found", i.region ? `no server ${i.serverId} in ${i.region}` : `no server ${i.serverId} is registered`);
    case "none":
      throw refuse("notFound", "no_backfill", `server ${i.serverId} has no open backfill request (never made, filled, cancelled, or its game ended)`);
    case "sessionMismatch":
      throw refuse("conflict", "session_mismatch", `server ${i.serverId} runs ${r.currentSessionId}, not ${i.sessionId ?? ""}`, {
        currentSessionId: r.currentSessionId,
      });
    default:
      return { backfillId: r.backfillId, sessionId: r.sessionId, region: r.region };
  }
}
