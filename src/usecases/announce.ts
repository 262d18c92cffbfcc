/**
 * Announcing assignments as `match-made` messages, with the store's outbox: a session is confirmed
 * announced only after its message was sent, and claimUnannounced() re-publishes what a failed send left
 * behind. Delivery to players is therefore at least once, and matchMade is idempotent.
 *
 * assignAndAnnounce is THE assign → scale-out signal → announce sequence; the intake (sessions a batch
 * filled) and the sweeper (every tick) both run it.
 */
import type { Assignment, AssignResult } from "../store/types";
import { toMatchMade } from "../domain/matchRequest";
import { describeError } from "./errors";
import { scaleOutSignal } from "./scaleOut";
import type { Ports } from "./ports";
import { recordAnnounceFailed } from "../telemetry/metrics";
import { assignmentTraceparents, type Context } from "../telemetry/tracing";
import { requeuedSessions } from "./serverChanges";

/** Messages per send: a few hundred sessions per tick fit easily in 1 MB Event Hub batches. */
export const ANNOUNCE_CHUNK = 100;

export interface AnnounceResult {
  sent: number;
  failed: number;
}

type AnnouncePorts = Pick<Ports, "settings" | "store" | "publisher" | "log">;

/**
 * Publishes assignments, chunk by chunk. A failed send is not thrown: the sessions stay in the outbox and
 * the sweeper re-publishes them.
 */
export async function announce(
  p: AnnouncePorts,
  region: string,
  assignments: Assignment[],
  traceparents = new Map<string, string | undefined>(),
): Promise<AnnounceResult> {
  let sent = 0;
  let failed = 0;
  for (let i = 0; i < assignments.length; i += ANNOUNCE_CHUNK) {
    const chunk = assignments.slice(i, i + ANNOUNCE_CHUNK);
    try {
      // Partition key = sessionId: spreads sessions over partitions; a re-publish of a session lands on
      // the same partition as the first attempt.
      await p.publisher.send(
        p.settings.matchMadeHub,
        chunk.map((a) => {
          const traceparent = traceparents.get(a.sessionId);
          const previousServerId = requeuedSessions.previousServerOf(a.sessionId);
          const body = { ...toMatchMade(a), ...(previousServerId ? { previousServerId } : {}) };
          return { body, partitionKey: a.sessionId, ...(traceparent ? { properties: { traceparent } } : {}) };
        }),
      );
    } catch (err) {
      failed += chunk.length;
      recordAnnounceFailed(region, chunk.length);
      p.log.warn(
        `match-made send failed for ${chunk.length} session(s) in ${region}; they stay in the outbox and the sweeper re-publishes them: ${describeError(err)}`,
      );
      continue;
    }
    await p.store.confirmAnnounced(
      region,
      chunk.map((a) => a.sessionId),
    );
    requeuedSessions.forget(chunk.map((a) => a.sessionId));
    sent += chunk.length;
  }
  return { sent, failed };
}

/**
 * Ready sessions of a region get free servers (oldest first), the scale-out signal if some wait, and the
 * match-made messages. `parentOf`: the trace a session's tickets continue in (the intake's ticket spans).
 */
export async function assignAndAnnounce(
  p: AnnouncePorts,
  region: string,
  parentOf: (ticketIds: readonly string[]) => Context | undefined = () => undefined,
): Promise<{ assigned: AssignResult; announced: AnnounceResult }> {
  const startedAt = Date.now();
  const assigned = await p.store.assign(region);
  scaleOutSignal(p.log, assigned);
  const announced = await announce(p, region, assigned.assigned, assignmentTraceparents(assigned.assigned, parentOf, startedAt));
  return { assigned, announced };
}
