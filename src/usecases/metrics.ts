/**
 * Custom metrics as structured log lines, and the scale-out signal.
 *
 * Why a log line and not an SDK call: the Functions host already ships every context.log line to
 * Application Insights (table `traces`), so no second telemetry pipeline, connection string or SDK in
 * the worker is needed; a log-based alert / KQL `parse` turns the fixed JSON shape into a metric, and the
 * local runtime can count the same lines. The fixed prefix and shape are the contract.
 */
import type { AssignResult } from "../store/types";
import type { Log } from "./ports";

/** Fixed shape of the metric lines (see emitMetric). */
export interface MetricLine {
  metric: string;
  value: number;
  dimensions: Record<string, string>;
}

/** A custom metric as one log line: `METRIC {"metric":..., "value":..., "dimensions":{...}}`. */
export function emitMetric(log: Pick<Log, "log">, metric: string, value: number, dimensions: Record<string, string>): MetricLine {
  const line: MetricLine = { metric, value, dimensions };
  log.log(`METRIC ${JSON.stringify(line)}`);
  return line;
}

/** The scale-out signal: sessions are full and wait because no server is free. */
export function scaleOutSignal(log: Pick<Log, "log" | "warn">, result: AssignResult): MetricLine | undefined {
  if (result.unassignedSessions <= 0) return undefined;
  log.warn(
    `SCALE-OUT ${JSON.stringify({
      region: result.region,
      sessionsWaitingForServer: result.unassignedSessions,
      byMode: result.unassignedByMode,
      serversAvailable: result.serversAvailable,
    })}`,
  );
  return emitMetric(log, "matchmaker.sessionsWaitingForServer", result.unassignedSessions, { region: result.region });
}
