/**
 * What push tells players when their game server dies (DESIGN.md section 6 "Push", "Game servers are global"):
 *
 * - `serverLost`: a server that had confirmed its session died. The store ends the session (its players'
 *   tickets read serverLost) and deletes it with its member list, so the sweeper reads the members of the
 *   sessions about to be lost BEFORE expireServers: the allocations of servers whose lease or claim is
 *   (nearly) due. Then each player's ticket is read and pushed as it now reads.
 * - `serverChanged`: a server died before confirming; the group went back to the front of the queue, and the
 *   next match-made of that session names `previousServerId`, so matchMade tells its players
 *   `serverChanged` (the new server) instead of `matched`. The sessions requeued by this process's sweeps are
 *   remembered here until their next announcement (a sweep announces them at once when a server is free).
 *   A requeued session that another instance announces goes out as `matched` with the new server: the client
 *   library takes a second match of the same ticket as a server change too.
 */
import type { PlayerView, SessionPlayer } from "../domain/types";
import { ticketFromPlayer } from "../domain/ticket";
import type { PushNotice } from "../messaging/webPubSub";
import type { ExpireServersResult } from "../store/types";
import { forEachLimit } from "../lib/limiter";
import type { Store } from "./ports";

/** A server whose lease or claim runs out within this is read before expireServers (clock skew, the sweep's own duration). */
export const LOSS_LOOKAHEAD_MS = 5_000;
const MAX_REMEMBERED = 10_000;
const READ_CONCURRENCY = 16;

/** Sessions requeued by this process, until announced again: sessionId → the server that died. */
export class RequeuedSessions {
  private readonly bySession = new Map<string, { previousServerId: string; atMs: number }>();

  constructor(private readonly keepMs: number = 30 * 60_000) {}

  note(sessionId: string, previousServerId: string, nowMs: number): void {
    this.bySession.delete(sessionId);
    this.bySession.set(sessionId, { previousServerId, atMs: nowMs });
    // Oldest first (insertion order): drop what is too old or too many.
    for (const [sid, e] of this.bySession) {
      if (this.bySession.size <= MAX_REMEMBERED && nowMs - e.atMs <= this.keepMs) break;
      this.bySession.delete(sid);
    }
  }

  previousServerOf(sessionId: string): string | undefined {
    return this.bySession.get(sessionId)?.previousServerId;
  }

  /** After the session's new match-made was sent. */
  forget(sessionIds: readonly string[]): void {
    for (const sid of sessionIds) this.bySession.delete(sid);
  }
}

export const requeuedSessions = new RequeuedSessions();

/** Remembers the sessions this expiry requeued, with the server that left them. */
export function noteRequeued(result: ExpireServersResult, nowMs: number, registry: RequeuedSessions = requeuedSessions): void {
  for (const e of result.expired) if (e.session === "requeued" && e.sessionId) registry.note(e.sessionId, e.serverId, nowMs);
}

/** The players of the confirmed sessions whose server is due to expire: sessionId → players. */
export async function sessionsAtRisk(store: Pick<Store, "listServers" | "getServer">, region: string, nowMs: number): Promise<Map<string, SessionPlayer[]>> {
  const horizon = nowMs + LOSS_LOOKAHEAD_MS;
  const due = (await store.listServers(region)).filter(
    (s) => s.state === "allocated" && s.sessionId && s.confirmedAtMs !== undefined && s.leaseExpiresAtMs <= horizon,
  );
  const out = new Map<string, SessionPlayer[]>();
  await forEach(due, async (s) => {
    const a = await store.getServer(region, s.serverId);
    if (a?.session) out.set(a.session.sessionId, a.session.players);
  });
  return out;
}

/** `serverLost` for each player of the lost sessions whose ticket now reads serverLost for that session. */
export async function serverLostNotices(
  store: Pick<Store, "getPlayer">,
  region: string,
  lostSessions: readonly string[],
  atRisk: Map<string, SessionPlayer[]>,
): Promise<PushNotice[]> {
  const players = lostSessions.flatMap((sid) => (atRisk.get(sid) ?? []).map((pl) => ({ sid, pl })));
  const notices: PushNotice[] = [];
  await forEach(players, async ({ sid, pl }) => {
    const view: PlayerView | null = await store.getPlayer(region, pl.playerId);
    // The player may have moved on (a newer ticket): then this is not its news.
    if (!view || view.ticketId !== pl.ticketId || view.sessionId !== sid) return;
    const ticket = ticketFromPlayer(view);
    if (ticket.status === "serverLost") notices.push({ playerId: pl.playerId, type: "serverLost", ticket });
  });
  return notices;
}

const forEach = <T>(items: readonly T[], fn: (item: T) => Promise<void>) => forEachLimit(items, READ_CONCURRENCY, fn);
