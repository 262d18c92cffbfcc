/**
 * Delivery of `match-made` messages (the matchMade trigger): `ServerReady` to the orchestrator of every
 * player of each session (instanceId = playerId), carrying the player's own ticketId so an orchestrator
 * running a newer ticket ignores it.
 *
 * An instance that does not exist (purged, or the leave already completed it differently) or has finished
 * is fine: the player's state is in the store either way. Bad messages are dead-lettered with their
 * reason. Raising the same event twice is harmless (the orchestrator completes on the first).
 * Players were pushed their match already, where it was made (announce.ts).
 */
import type { MatchMade, SessionPlayer } from "../domain/types";
import { serverReadyFor } from "../domain/matchRequest";
import { forEachLimit } from "../lib/limiter";
import { isolatePoison } from "./isolatePoison";
import { deadLetterRejected, parseMatchMade, type Rejected } from "./messages";
import type { MatchRequests, Ports } from "./ports";
import { ATTR, MessageTraces, OpenSpans, traceparentOf } from "../telemetry/tracing";

export const MATCH_MADE_SOURCE = "match-made";
const RAISE_CONCURRENCY = 16;

export interface DeliveryResult {
  raised: number;
  notRunning: number;
  rejected: number;
}

type DeliveryPorts = Pick<Ports, "store" | "log"> & { matchRequests: MatchRequests };

/** The delivery of a batch; a batch that fails for another reason than an unavailable service is taken apart (isolatePoison). */
export function deliverMatches(p: DeliveryPorts, messages: unknown[], traceparents: (string | undefined)[] = []): Promise<DeliveryResult> {
  const traces = new MessageTraces(messages, traceparents);
  return isolatePoison(
    p,
    MATCH_MADE_SOURCE,
    messages,
    (batch) => deliver(p, batch, traces),
    (results, poisoned) => ({
      raised: results.reduce((n, r) => n + r.raised, 0),
      notRunning: results.reduce((n, r) => n + r.notRunning, 0),
      rejected: results.reduce((n, r) => n + r.rejected, 0) + poisoned,
    }),
  );
}

async function deliver(p: DeliveryPorts, messages: unknown[], traces: MessageTraces): Promise<DeliveryResult> {
  // One span per session, in the trace its match-made message carried; its ServerReady events carry it on.
  const spans = new OpenSpans();
  try {
    return await deliverTraced(p, messages, traces, spans);
  } finally {
    spans.endAll();
  }
}

async function deliverTraced(p: DeliveryPorts, messages: unknown[], traces: MessageTraces, spans: OpenSpans): Promise<DeliveryResult> {
  const rejected: Rejected[] = [];
  const targets: { msg: MatchMade; player: SessionPlayer; traceparent: string | undefined }[] = [];
  messages.forEach((raw, index) => {
    const parsed = parseMatchMade(raw, index);
    if (!parsed.ok) return void rejected.push(parsed);
    const m = parsed.value;
    const ctx = spans.begin(m.sessionId, "matchMade", traces.parentOf(raw), {
      [ATTR.sessionId]: m.sessionId,
      [ATTR.serverId]: m.serverId,
      [ATTR.mode]: m.mode,
      [ATTR.region]: m.region,
      [ATTR.ticketId]: m.players.map((pl) => pl.ticketId),
    });
    const traceparent = traceparentOf(ctx);
    // A backfill join tells only the players who joined; the others learnt their server when the game started.
    for (const player of m.joined ?? m.players) targets.push({ msg: m, player, traceparent });
  });
  await deadLetterRejected(p.store, MATCH_MADE_SOURCE, "match-made message", rejected, p.log);
  let raised = 0;
  let notRunning = 0;
  await forEachLimit(targets, RAISE_CONCURRENCY, async ({ msg, player, traceparent }) => {
    const event = { ...serverReadyFor(msg, player), ...(traceparent ? { traceparent } : {}) };
    if (await p.matchRequests.serverReady(player.playerId, event)) raised++;
    else notRunning++;
  });
  p.log.log(`matchMade: ${messages.length} message(s), ServerReady raised ${raised}, no instance ${notRunning}, rejected ${rejected.length}`);
  return { raised, notRunning, rejected: rejected.length };
}
