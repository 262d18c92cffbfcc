/**
 * `addPlayers`: Event Hub trigger on player-requests, a batch at a time → intakeBatch (src/usecases).
 *
 * Any failure of Redis or the Durable extension throws: with the retry policy below the host re-runs the
 * same batch instead of checkpointing past it (without a retry policy the Event Hub checkpoint advances
 * even when the function throws). Every step of the intake is idempotent, so the re-run changes nothing
 * that was done.
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { EVENTHUB_CONNECTION, EVENTHUB_CONSUMER_GROUP, PLAYER_REQUESTS_HUB_EXPR } from "../config/settings";
import { intakeBatch, type IntakeResult } from "../usecases/intakeBatch";
import { durableClientOf, portsFor } from "./wiring";
import { messageTraceparents } from "../telemetry/tracing";

export const ADD_PLAYERS_RETRY = {
  strategy: "exponentialBackoff",
  // Only infrastructure failures throw (bad messages are dead-lettered), so retrying until the service is
  // back loses nothing; a finite count would checkpoint the batch away after the last attempt.
  maxRetryCount: -1,
  minimumInterval: { seconds: 1 },
  maximumInterval: { minutes: 2 },
} as const;

export async function addPlayers(messages: unknown, context: InvocationContext): Promise<IntakeResult> {
  const batch = Array.isArray(messages) ? messages : [messages];
  return intakeBatch(portsFor(context, durableClientOf(context)), batch, messageTraceparents(context.triggerMetadata, batch.length));
}

app.eventHub("addPlayers", {
  connection: EVENTHUB_CONNECTION,
  eventHubName: PLAYER_REQUESTS_HUB_EXPR,
  cardinality: "many",
  consumerGroup: EVENTHUB_CONSUMER_GROUP,
  extraInputs: [df.input.durableClient()],
  retry: ADD_PLAYERS_RETRY,
  handler: addPlayers,
});
