/**
 * `matchMade`: Event Hub trigger on match-made → deliverMatches (src/usecases): `ServerReady` to the
 * orchestrator of every player of each session. Durable failures throw, and the retry policy re-runs the
 * batch; raising the same event twice is harmless (the orchestrator completes on the first).
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { EVENTHUB_CONNECTION, EVENTHUB_CONSUMER_GROUP, MATCH_MADE_HUB_EXPR } from "../config/settings";
import { deliverMatches, type DeliveryResult } from "../usecases/deliverMatches";
import { durableClientOf, portsFor } from "./wiring";
import { messageTraceparents } from "../telemetry/tracing";

export const MATCH_MADE_RETRY = {
  strategy: "exponentialBackoff",
  maxRetryCount: -1,
  minimumInterval: { seconds: 1 },
  maximumInterval: { minutes: 1 },
} as const;

export async function matchMade(messages: unknown, context: InvocationContext): Promise<DeliveryResult> {
  const batch = Array.isArray(messages) ? messages : [messages];
  return deliverMatches(portsFor(context, durableClientOf(context)), batch, messageTraceparents(context.triggerMetadata, batch.length));
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
