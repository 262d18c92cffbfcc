/**
 * `matchMade`: Event Hub trigger on match-made. Raises `ServerReady` to the orchestrator of every player
 * of each session (instanceId = playerId), carrying the player's own ticketId so an orchestrator running
 * a newer ticket ignores it.
 *
 * An instance that does not exist (404: purged, or the leave already completed it differently) or has
 * finished (410, treated as success by the client) is fine: the player's state is in the store either
 * way. Bad messages are dead-lettered with their reason. Durable failures throw, and the retry policy
 * re-runs the batch; raising the same event twice is harmless (the orchestrator completes on the first).
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { EVENTHUB_CONNECTION, EVENTHUB_CONSUMER_GROUP, MATCH_MADE_HUB_EXPR } from "../config/settings";
import type { MatchMade, SessionPlayer } from "../domain/types";
import { store } from "../app/deps";
import { deadLetterRejected, forEachLimit, parseMatchMade, type Rejected } from "../app/messages";
import { raiseEventIfExists, SERVER_READY_EVENT } from "../app/durable";
import { serverReadyFor } from "../app/matchLogic";

export const DEAD_LETTER_SOURCE = "match-made";
const RAISE_CONCURRENCY = 16;

export const MATCH_MADE_RETRY = {
  strategy: "exponentialBackoff",
  maxRetryCount: -1,
  minimumInterval: { seconds: 1 },
  maximumInterval: { minutes: 1 },
} as const;

export async function matchMade(messages: unknown, context: InvocationContext): Promise<{ raised: number; notRunning: number; rejected: number }> {
  const batch = Array.isArray(messages) ? messages : [messages];
  const rejected: Rejected[] = [];
  const targets: { msg: MatchMade; player: SessionPlayer }[] = [];
  batch.forEach((raw, index) => {
    const parsed = parseMatchMade(raw, index);
    if (!parsed.ok) rejected.push(parsed);
    else for (const player of parsed.value.players) targets.push({ msg: parsed.value, player });
  });
  if (rejected.length) await deadLetterRejected(await store(), DEAD_LETTER_SOURCE, "match-made message", rejected, context);
  const client = df.getClient(context);
  let raised = 0;
  let notRunning = 0;
  await forEachLimit(targets, RAISE_CONCURRENCY, async ({ msg, player }) => {
    if (await raiseEventIfExists(client, player.playerId, SERVER_READY_EVENT, serverReadyFor(msg, player))) raised++;
    else notRunning++;
  });
  context.log(`matchMade: ${batch.length} message(s), ServerReady raised ${raised}, no instance ${notRunning}, rejected ${rejected.length}`);
  return { raised, notRunning, rejected: rejected.length };
}

app.eventHub("matchMade", {
  connection: EVENTHUB_CONNECTION,
  eventHubName: MATCH_MADE_HUB_EXPR,
  cardinality: "many",
  consumerGroup: EVENTHUB_CONSUMER_GROUP,
  extraInputs: [df.input.durableClient()],
  retry: MATCH_MADE_RETRY,
  handler: matchMade,
});
