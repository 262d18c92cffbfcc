/**
 * The sweeper's work for one region, every few seconds:
 * 1. expireServers: silent servers leave the pool; a session whose server died before confirming goes back
 *    to the front of the ready queue with its players, and a fresh match-made follows when another server
 *    takes it (its players are pushed `serverChanged`); one that had confirmed is lost (pushed `serverLost`).
 * 2. expireStale: players and sessions older than any live orchestrator could be (lost orchestrators).
 * 3. regroup: in modes with rules, players in sessions that cannot fill are merged or moved into sessions
 *    that can under the window in force now (windows widen with wait), so nobody waits out the timeout
 *    while a fitting group exists; the sessions this fills go through the assignment below like any other.
 * 4. claimUnannounced: re-publishes sessions whose match-made send failed earlier (the outbox).
 * 5. assignAndAnnounce: ready sessions get free servers; each becomes one match-made message; the
 *    scale-out signal when sessions wait with no free server.
 */
import { STALE_MARGIN_SECONDS } from "../domain/matchRequest";
import { announce, assignAndAnnounce } from "./announce";
import { fillAndAnnounce, republishBackfillJoins } from "./backfill";
import { describeError } from "./errors";
import type { Ports } from "./ports";
import { endedNotice, playerPushOn, pushToPlayers } from "../messaging/webPubSub";
import { noteRequeued, serverLostNotices, sessionsAtRisk } from "./serverChanges";

/** A send younger than this may still be in flight in another invocation: leave it alone. */
export const OUTBOX_GRACE_MS = 10_000;
const OUTBOX_MAX = 500;

export interface RegionSweep {
  region: string;
  serversExpired: number;
  sessionsRequeued: number;
  playersExpired: number;
  sessionsExpired: number;
  /** Sessions merged into others, and sessions made full, by regrouping under widened windows. */
  sessionsMerged: number;
  sessionsRegrouped: number;
  republished: number;
  /** Running games that got players by backfill. */
  backfillJoins: number;
  assigned: number;
  announced: number;
  announceFailed: number;
  sessionsWaitingForServer: number;
  serversAvailable: number;
}

type SweepPorts = Pick<Ports, "settings" | "store" | "publisher" | "log" | "clock">;

/** Push is never the source of truth: a read it needs that fails is logged, and the sweep goes on. */
async function quietly<T>(p: SweepPorts, what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    p.log.warn(`push: ${what} failed (players learn it by polling): ${describeError(err)}`);
    return undefined;
  }
}

export async function sweepRegion(p: SweepPorts, region: string): Promise<RegionSweep> {
  const playerMaxAgeMs = (p.settings.matchTimeoutSeconds + STALE_MARGIN_SECONDS) * 1000;
  // A session collects players over time: its last player may have joined just before the first timed out.
  const sessionMaxAgeMs = 2 * playerMaxAgeMs;
  const atRisk = playerPushOn() ? await quietly(p, "reading the sessions of dying servers", () => sessionsAtRisk(p.store, region, p.clock())) : undefined;
  const servers = await p.store.expireServers(region);
  noteRequeued(servers, p.clock());
  if (atRisk && servers.lostSessions.length) {
    const lost = await quietly(p, "reading the tickets of lost sessions", () => serverLostNotices(p.store, region, servers.lostSessions, atRisk));
    await pushToPlayers(lost ?? [], (m) => p.log.warn(m));
  }
  const stale = await p.store.expireStale(region, { playerMaxAgeMs, sessionMaxAgeMs });
  await pushToPlayers(
    stale.expiredPlayers.map((x) => endedNotice(x.playerId, x.ticketId, region, "expired")),
    (m) => p.log.warn(m),
  );
  const regrouped = await p.store.regroup(region);
  const leftover = await p.store.claimUnannounced(region, { olderThanMs: OUTBOX_GRACE_MS, max: OUTBOX_MAX });
  const republished = await announce(p, region, leftover);
  // Backfill (issue 14): re-publish joins whose send failed, then games that ask for players go first.
  const rejoined = await republishBackfillJoins(p, region);
  const backfilled = await fillAndAnnounce(p, region);
  const { assigned, announced } = await assignAndAnnounce(p, region);
  const sweep: RegionSweep = {
    region,
    serversExpired: servers.expired.length,
    sessionsRequeued: servers.requeuedSessions.length,
    playersExpired: stale.expiredPlayers.length,
    sessionsExpired: stale.expiredSessions.length,
    sessionsMerged: regrouped.mergedSessions.length,
    sessionsRegrouped: regrouped.readySessions.length,
    republished: republished.sent + rejoined.sent,
    backfillJoins: backfilled.joins.length,
    assigned: assigned.assigned.length,
    announced: announced.sent,
    announceFailed: announced.failed + republished.failed + rejoined.failed + backfilled.announced.failed,
    sessionsWaitingForServer: assigned.unassignedSessions,
    serversAvailable: assigned.serversAvailable,
  };
  if (
    sweep.serversExpired ||
    sweep.playersExpired ||
    sweep.sessionsExpired ||
    sweep.sessionsRegrouped ||
    sweep.assigned ||
    sweep.backfillJoins ||
    sweep.republished ||
    sweep.announceFailed
  ) {
    p.log.log(`assignSessions ${JSON.stringify(sweep)}`);
  }
  return sweep;
}

/** Every configured region; one failing does not stop the others, and the call still fails at the end so it shows up. */
export async function sweepRegions(p: SweepPorts): Promise<RegionSweep[]> {
  const sweeps: RegionSweep[] = [];
  const failures: string[] = [];
  for (const region of p.settings.regions) {
    try {
      sweeps.push(await sweepRegion(p, region));
    } catch (err) {
      failures.push(`${region}: ${describeError(err)}`);
      p.log.error(`assignSessions failed for region ${region}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  if (failures.length) throw new Error(`assignSessions failed for ${failures.length} region(s): ${failures.join("; ")}`);
  return sweeps;
}
