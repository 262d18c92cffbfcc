/**
 * Publishing assignments as `match-made` messages, with the store's outbox: a session is confirmed
 * announced only after its message was sent, and claimUnannounced() re-publishes what a failed send left
 * behind. Delivery to players is therefore at least once, and matchMade is idempotent.
 */
import type { InvocationContext } from "@azure/functions";
import type { Assignment, AssignResult } from "../store/types";
import type { EventPublisher } from "../messaging/eventPublisher";
import type { Store } from "./deps";
import { toMatchMade } from "./matchLogic";

/** Messages per send: a few hundred sessions per tick fit easily in 1 MB Event Hub batches. */
export const ANNOUNCE_CHUNK = 100;

export interface AnnounceResult {
  sent: number;
  failed: number;
}

export async function announce(
  store: Store,
  publisher: EventPublisher,
  hubName: string,
  region: string,
  assignments: Assignment[],
  log: Pick<InvocationContext, "warn">,
): Promise<AnnounceResult> {
  let sent = 0;
  let failed = 0;
  for (let i = 0; i < assignments.length; i += ANNOUNCE_CHUNK) {
    const chunk = assignments.slice(i, i + ANNOUNCE_CHUNK);
    try {
      // Partition key = sessionId: spreads sessions over partitions; a re-publish of a session lands on
      // the same partition as the first attempt.
      await publisher.send(
        hubName,
        chunk.map((a) => ({ body: toMatchMade(a), partitionKey: a.sessionId })),
      );
    } catch (err) {
      failed += chunk.length;
      log.warn(
        `match-made send failed for ${chunk.length} session(s) in ${region}; they stay in the outbox and the sweeper re-publishes them: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
      continue;
    }
    await store.confirmAnnounced(
      region,
      chunk.map((a) => a.sessionId),
    );
    sent += chunk.length;
  }
  return { sent, failed };
}

/** Fixed shape of the metric lines (see emitMetric). */
export interface MetricLine {
  metric: string;
  value: number;
  dimensions: Record<string, string>;
}

/**
 * A custom metric as one structured log line: `METRIC {"metric":..., "value":..., "dimensions":{...}}`.
 *
 * Why a log line and not an SDK call: the Functions host already ships every context.log line to
 * Application Insights (table `traces`), so no second telemetry pipeline, connection string or SDK in
 * the worker is needed; a log-based alert / KQL `parse` turns the fixed JSON shape into a metric, and the
 * local runtime can count the same lines. The fixed prefix and shape are the contract.
 */
export function emitMetric(log: Pick<InvocationContext, "log">, metric: string, value: number, dimensions: Record<string, string>): MetricLine {
  const line: MetricLine = { metric, value, dimensions };
  log.log(`METRIC ${JSON.stringify(line)}`);
  return line;
}

/** The scale-out signal: sessions are full and wait because no server is free. */
export function scaleOutSignal(log: Pick<InvocationContext, "log" | "warn">, result: AssignResult): MetricLine | undefined {
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
