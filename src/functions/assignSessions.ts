/**
 * `assignSessions`: the sweeper, on the ASSIGN_SCHEDULE timer (every few seconds). Per region:
 * 1. expireServers: silent servers leave the pool; a session whose server died goes back to the front
 *    of the ready queue with its players, and a fresh match-made follows when another server takes it.
 * 2. expireStale: players and sessions older than any live orchestrator could be (lost orchestrators).
 * 3. claimUnannounced: re-publishes sessions whose match-made send failed earlier (the outbox).
 * 4. assign: ready sessions get free servers (oldest first); each becomes one match-made message.
 * 5. Scale-out signal when sessions wait with no free server: a structured log line and a metric.
 * One region failing does not stop the others; the invocation still fails at the end so it shows up.
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { ASSIGN_SCHEDULE_EXPR } from "../config/settings";
import { appSettings, publisher, store } from "../app/deps";
import { announce, emitMetric, scaleOutSignal } from "../app/announce";
import { STALE_MARGIN_SECONDS } from "../app/matchLogic";

/** A send younger than this may still be in flight in another invocation: leave it alone. */
export const OUTBOX_GRACE_MS = 10_000;
const OUTBOX_MAX = 500;

export interface RegionSweep {
  region: string;
  serversExpired: number;
  sessionsRequeued: number;
  playersExpired: number;
  sessionsExpired: number;
  republished: number;
  assigned: number;
  announced: number;
  announceFailed: number;
  sessionsWaitingForServer: number;
  serversAvailable: number;
}

export async function assignSessions(_timer: Timer | unknown, context: InvocationContext): Promise<RegionSweep[]> {
  const s = appSettings();
  const st = await store();
  const pub = publisher();
  const playerMaxAgeMs = (s.matchTimeoutSeconds + STALE_MARGIN_SECONDS) * 1000;
  // A session collects players over time: its last player may have joined just before the first timed out.
  const sessionMaxAgeMs = 2 * playerMaxAgeMs;
  const sweeps: RegionSweep[] = [];
  const failures: string[] = [];

  for (const region of s.regions) {
    try {
      const servers = await st.expireServers(region);
      const stale = await st.expireStale(region, { playerMaxAgeMs, sessionMaxAgeMs });
      const leftover = await st.claimUnannounced(region, { olderThanMs: OUTBOX_GRACE_MS, max: OUTBOX_MAX });
      const republished = await announce(st, pub, s.matchMadeHub, region, leftover, context);
      const assigned = await st.assign(region);
      const announced = await announce(st, pub, s.matchMadeHub, region, assigned.assigned, context);
      scaleOutSignal(context, assigned);
      const sweep: RegionSweep = {
        region,
        serversExpired: servers.expired.length,
        sessionsRequeued: servers.requeuedSessions.length,
        playersExpired: stale.expiredPlayers.length,
        sessionsExpired: stale.expiredSessions.length,
        republished: republished.sent,
        assigned: assigned.assigned.length,
        announced: announced.sent,
        announceFailed: announced.failed + republished.failed,
        sessionsWaitingForServer: assigned.unassignedSessions,
        serversAvailable: assigned.serversAvailable,
      };
      sweeps.push(sweep);
      if (sweep.serversExpired || sweep.playersExpired || sweep.sessionsExpired || sweep.assigned || sweep.republished || sweep.announceFailed) {
        context.log(`assignSessions ${JSON.stringify(sweep)}`);
      }
      if (sweep.announceFailed) emitMetric(context, "matchmaker.announceFailed", sweep.announceFailed, { region });
    } catch (err) {
      failures.push(`${region}: ${err instanceof Error ? err.message : String(err)}`);
      context.error(`assignSessions failed for region ${region}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  if (failures.length) throw new Error(`assignSessions failed for ${failures.length} region(s): ${failures.join("; ")}`);
  return sweeps;
}

app.timer("assignSessions", {
  schedule: ASSIGN_SCHEDULE_EXPR,
  // A missed tick is not worth catching up on: the next one does the same work.
  runOnStartup: false,
  useMonitor: true,
  handler: assignSessions,
});
