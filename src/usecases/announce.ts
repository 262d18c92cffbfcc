/**
 * Announcing assignments as `match-made` messages, with the store's outbox: a session is confirmed
 * announced only after its message was sent, and claimUnannounced() re-publishes what a failed send left
 * behind. Delivery to players is therefore at least once, and matchMade is idempotent.
 *
 * assignAndAnnounce is THE assign → scale-out signal → announce sequence; the intake (sessions a batch
 * filled) and the sweeper (every tick) both run it.
 *
 * Push goes out here, where the match is made, beside the match-made send: players are told without waiting
 * for the Event Hubs hop and the matchMade batches queued before theirs on the same partition (the
 * orchestrators' ServerReady events follow that path). The store is already matched, so the push says what the
 * ticket endpoint says; a re-publish from the outbox pushes again (clients take the same news twice).
 */
import type { Assignment, AssignResult } from "../store/types";
import { toMatchMade } from "../domain/matchRequest";
import { describeError } from "./errors";
import { scaleOutSignal } from "./scaleOut";
import type { Ports } from "./ports";
import { recordAnnounceFailed } from "../telemetry/metrics";
import { assignmentTraceparents, type Context } from "../telemetry/tracing";
import { requeuedSessions } from "./serverChanges";
import { matchedNotice, pushToPlayers, type PushResult } from "../messaging/webPubSub";
import type { MatchMade } from "../domain/types";

/** Messages per send: a few hundred sessions per tick fit easily in 1 MB Event Hub batches. */
export const ANNOUNCE_CHUNK = 100;

export interface AnnounceResult {
  sent: number;
  failed: number;
}

type AnnouncePorts = Pick<Ports, "settings" | "store" | "publisher" | "log"> & Partial<Pick<Ports, "clock">>;

/**
 * Publishes assignments, chunk by chunk. A failed send is not thrown: the sessions stay in the outbox and
 * the sweeper re-publishes them.
 */
export async function announce(
  p: AnnouncePorts,
  region: string,
  assignments: Assignment[],
  traceparents = new Map<string, string | undefined>(),
  confirm: (sent: Assignment[]) => Promise<void> = (sent) =>
    p.store.confirmAnnounced(
      region,
      sent.map((a) => a.sessionId),
    ),
): Promise<AnnounceResult> {
  let sent = 0;
  let failed = 0;
  const pushes: Promise<PushResult>[] = [];
  for (let i = 0; i < assignments.length; i += ANNOUNCE_CHUNK) {
    const chunk = assignments.slice(i, i + ANNOUNCE_CHUNK);
    const bodies: MatchMade[] = chunk.map((a) => {
      const previousServerId = requeuedSessions.previousServerOf(a.sessionId);
      return { ...toMatchMade(a), ...(previousServerId ? { previousServerId } : {}) };
    });
    pushes.push(
      pushToPlayers(
        bodies.flatMap((b) => (b.joined ?? b.players).map((pl) => matchedNotice(b, pl))),
        (m) => p.log.warn(m),
      ),
    );
    try {
      // Partition key = sessionId: spreads sessions over partitions; a re-publish of a session lands on
      // the same partition as the first attempt.
      await p.publisher.send(
        p.settings.matchMadeHub,
        bodies.map((body) => {
          const traceparent = traceparents.get(body.sessionId);
          return { body, partitionKey: body.sessionId, ...(traceparent ? { properties: { traceparent } } : {}) };
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
    await confirm(chunk);
    requeuedSessions.forget(chunk.map((a) => a.sessionId));
    sent += chunk.length;
  }
  await Promise.all(pushes); // never rejects: a failed push is logged, players poll
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
  scaleOutSignal(p.log, assigned, p.store, (p.clock ?? Date.now)());
  const announced = await announce(p, region, assigned.assigned, assignmentTraceparents(assigned.assigned, parentOf, startedAt));
  return { assigned, announced };
}
