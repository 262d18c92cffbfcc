/**
 * Delivery of `match-made` messages (the matchMade trigger): `ServerReady` to the orchestrator of every
 * player of each session (instanceId = playerId), carrying the player's own ticketId so an orchestrator
 * running a newer ticket ignores it.
 *
 * An instance that does not exist (purged, or the leave already completed it differently) or has finished
 * is fine: the player's state is in the store either way. Bad messages are dead-lettered with their
 * reason. Raising the same event twice is harmless (the orchestrator completes on the first).
 */
import type { MatchMade, SessionPlayer } from "../domain/types";
import { serverReadyFor } from "../domain/matchRequest";
import { forEachLimit } from "../lib/limiter";
import { isolatePoison } from "./isolatePoison";
import { matchedNotice, pushToPlayers } from "../messaging/webPubSub";
import { deadLetterRejected, parseMatchMade, type Rejected } from "./messages";
import type { MatchRequests, Ports } from "./ports";

export const MATCH_MADE_SOURCE = "match-made";
const RAISE_CONCURRENCY = 16;

export interface DeliveryResult {
  raised: number;
  notRunning: number;
  rejected: number;
}

type DeliveryPorts = Pick<Ports, "store" | "log"> & { matchRequests: MatchRequests };

/** The delivery of a batch; a batch that fails for another reason than an unavailable service is taken apart (isolatePoison). */
export function deliverMatches(p: DeliveryPorts, messages: unknown[]): Promise<DeliveryResult> {
  return isolatePoison(
    p,
    MATCH_MADE_SOURCE,
    messages,
    (batch) => deliver(p, batch),
    (results, poisoned) => ({
      raised: results.reduce((n, r) => n + r.raised, 0),
      notRunning: results.reduce((n, r) => n + r.notRunning, 0),
      rejected: results.reduce((n, r) => n + r.rejected, 0) + poisoned,
    }),
  );
}

async function deliver(p: DeliveryPorts, messages: unknown[]): Promise<DeliveryResult> {
  const rejected: Rejected[] = [];
  const targets: { msg: MatchMade; player: SessionPlayer }[] = [];
  messages.forEach((raw, index) => {
    const parsed = parseMatchMade(raw, index);
    if (!parsed.ok) rejected.push(parsed);
    else for (const player of parsed.value.players) targets.push({ msg: parsed.value, player });
  });
  // Push goes beside the raises (it never throws): a player learns the match with no orchestrator episode.
  const pushing = pushToPlayers(
    targets.map(({ msg, player }) => matchedNotice(msg, player)),
    (m) => p.log.warn(m),
  );
  await deadLetterRejected(p.store, MATCH_MADE_SOURCE, "match-made message", rejected, p.log);
  let raised = 0;
  let notRunning = 0;
  await forEachLimit(targets, RAISE_CONCURRENCY, async ({ msg, player }) => {
    if (await p.matchRequests.serverReady(player.playerId, serverReadyFor(msg, player))) raised++;
    else notRunning++;
  });
  await pushing;
  p.log.log(`matchMade: ${messages.length} message(s), ServerReady raised ${raised}, no instance ${notRunning}, rejected ${rejected.length}`);
  return { raised, notRunning, rejected: rejected.length };
}
