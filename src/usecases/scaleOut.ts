/**
 * The scale-out signal: full sessions wait because no game server is free.
 *
 * The figure itself is the OpenTelemetry gauge `matchmaker.sessions.waiting_for_server` (per region; read
 * from the store whenever metrics are collected, src/telemetry/metrics.ts): that is what operators alert
 * on (the template's metric alert does). This warning is for whoever reads the log: one line per region
 * and sweep while sessions wait, naming the metric.
 */
import type { AssignResult } from "../store/types";
import type { Log } from "./ports";

export const SCALE_OUT_METRIC = "matchmaker.sessions.waiting_for_server";

/** Logs the warning when sessions wait for a server; returns it (undefined when none waits). */
export function scaleOutSignal(log: Pick<Log, "warn">, result: AssignResult): string | undefined {
  if (result.unassignedSessions <= 0) return undefined;
  const byMode = Object.entries(result.unassignedByMode)
    .map(([mode, n]) => `${mode} ${n}`)
    .join(", ");
  const line =
    `scale-out: ${result.unassignedSessions} full session(s) in ${result.region} wait for a game server (by mode: ${byMode}; servers free: ${result.serversAvailable}); ` +
    `alert on the metric ${SCALE_OUT_METRIC}`;
  log.warn(line);
  return line;
}
