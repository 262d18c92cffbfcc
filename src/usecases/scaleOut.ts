/**
 * The scale-out signal: full sessions wait because no game server is free.
 *
 * The figure itself is the OpenTelemetry gauge `matchmaker.sessions.waiting_for_server` (per region; read
 * from the store whenever metrics are collected, src/telemetry/metrics.ts): that is what operators alert
 * on (the template's metric alert does). This warning is for whoever reads the log. The sweeper runs every
 * second, so a warning on every sweep buried everything else in the log while servers were short: a
 * region's warning is written when the shortage starts or its size changes, then at most once a minute
 * while it stays the same, and one information line says when it is over.
 */
import type { AssignResult } from "../store/types";
import type { Log } from "./ports";

export const SCALE_OUT_METRIC = "matchmaker.sessions.waiting_for_server";

/** While a shortage stays the same, its warning is repeated this often. */
export const SCALE_OUT_REPEAT_MS = 60_000;

type Logged = { unassigned: number; at: number };
/** Per store (one per app instance; tests run several apps in one process) and region: the last warning. */
const lastWarning = new WeakMap<object, Map<string, Logged>>();

/**
 * Logs the warning when sessions wait for a server (throttled as above); returns the line when it was
 * written, undefined otherwise. `scope` keys the throttle (the app's store), `nowMs` is the use cases' clock.
 */
export function scaleOutSignal(log: Pick<Log, "warn" | "log">, result: AssignResult, scope: object = log, nowMs = Date.now()): string | undefined {
  let regions = lastWarning.get(scope);
  if (!regions) lastWarning.set(scope, (regions = new Map()));
  const last = regions.get(result.region);
  if (result.unassignedSessions <= 0) {
    if (last) {
      regions.delete(result.region);
      log.log(`scale-out over: no full session in ${result.region} waits for a game server any more`);
    }
    return undefined;
  }
  if (last && last.unassigned === result.unassignedSessions && nowMs - last.at < SCALE_OUT_REPEAT_MS) return undefined;
  regions.set(result.region, { unassigned: result.unassignedSessions, at: nowMs });
  const byMode = Object.entries(result.unassignedByMode)
    .map(([mode, n]) => `${mode} ${n}`)
    .join(", ");
  const line =
    `scale-out: ${result.unassignedSessions} full session(s) in ${result.region} wait for a game server (by mode: ${byMode}; servers free: ${result.serversAvailable}); ` +
    `alert on the metric ${SCALE_OUT_METRIC}`;
  log.warn(line);
  return line;
}
