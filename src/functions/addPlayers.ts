/**
 * `addPlayers`: Event Hub trigger on player-requests, a batch at a time.
 *
 * 1. Each message is checked against the published schema and the domain rules; a bad one is
 *    dead-lettered with its reason and never costs the rest of the batch.
 * 2. The matchRequest orchestrator is started per good request (instanceId = playerId) unless an instance
 *    already runs this ticket (redelivery) or this ticket already finished.
 * 3. The whole batch is enqueued with ONE store call (one script per region); then ONE store call
 *    dead-letters the bad messages with the requests the store refused.
 * 4. Sessions the batch filled are assigned at once and announced, so a match does not wait for the timer.
 *
 * Any failure of Redis or the Durable extension throws: with the retry policy below the host re-runs the
 * same batch instead of checkpointing past it (without a retry policy the Event Hub checkpoint advances
 * even when the function throws). Every step is idempotent, so the re-run changes nothing that was done.
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { EVENTHUB_CONNECTION, EVENTHUB_CONSUMER_GROUP, PLAYER_REQUESTS_HUB_EXPR } from "../config/settings";
import type { MatchRequestInput, PlayerRequest } from "../domain/types";
import type { EnqueueRequest } from "../store/types";
import { appSettings, publisher, store } from "../app/deps";
import { deadLetterRejected, forEachLimit, messageText, parsePlayerRequest, type Rejected } from "../app/messages";
import { CANCEL_EVENT, getStatusOrNull, isLive, ORCHESTRATOR_NAME, raiseEventIfExists, ticketOf } from "../app/durable";
import { announce, scaleOutSignal } from "../app/announce";

export const DEAD_LETTER_SOURCE = "player-requests";
/** Durable client calls in flight per batch. */
const START_CONCURRENCY = 16;
const MIN_WAIT_SECONDS = 5;

export const ADD_PLAYERS_RETRY = {
  strategy: "exponentialBackoff",
  // Only infrastructure failures throw (bad messages are dead-lettered), so retrying until the service is
  // back loses nothing; a finite count would checkpoint the batch away after the last attempt.
  maxRetryCount: -1,
  minimumInterval: { seconds: 1 },
  maximumInterval: { minutes: 2 },
} as const;

type GoodRequest = PlayerRequest & { requestedAtMs: number };

export async function addPlayers(messages: unknown, context: InvocationContext): Promise<void> {
  const s = appSettings();
  const batch = Array.isArray(messages) ? messages : [messages];
  const rejected: Rejected[] = [];
  const good: GoodRequest[] = [];
  const seenTickets = new Set<string>();
  const ticketOfPlayer = new Map<string, string>();
  batch.forEach((raw, index) => {
    const parsed = parsePlayerRequest(raw, index, s);
    if (!parsed.ok) {
      rejected.push(parsed);
      return;
    }
    // The same ticket twice in one batch (a producer retry): one is enough.
    if (seenTickets.has(parsed.value.ticketId)) return;
    seenTickets.add(parsed.value.ticketId);
    // Two tickets of one player in one batch: one orchestration per player, so the first one wins.
    const first = ticketOfPlayer.get(parsed.value.playerId);
    if (first !== undefined) {
      rejected.push({
        index,
        body: messageText(raw),
        error: "player_busy",
        detail: `player ${parsed.value.playerId} already has ticket ${first} in this batch`,
      });
      return;
    }
    ticketOfPlayer.set(parsed.value.playerId, parsed.value.ticketId);
    good.push(parsed.value);
  });

  const st = await store();
  const client = df.getClient(context);

  const toEnqueue: GoodRequest[] = [];
  await forEachLimit(good, START_CONCURRENCY, async (req) => {
    const decision = await ensureOrchestrator(client, req, s.matchTimeoutSeconds);
    if (decision === "busy") {
      rejected.push({
        index: -1,
        body: JSON.stringify(stripMs(req)),
        error: "player_busy",
        detail: `player ${req.playerId} already has another live ticket; finish or cancel it first`,
      });
    } else if (decision === "proceed") {
      toEnqueue.push(req);
    }
  });

  // Requests the store refuses are dead-lettered with the bad messages: one store call for both.
  const result = toEnqueue.length ? await st.enqueue(toEnqueue.map(enqueueRequest)) : undefined;
  result?.results.forEach((r, i) => {
    if (r.outcome === "rejected") rejected.push({ index: -1, body: JSON.stringify(stripMs(toEnqueue[i]!)), error: r.error, detail: r.detail });
  });
  await deadLetterRejected(st, DEAD_LETTER_SOURCE, "player-request", rejected, context);
  if (!result) return;

  // A ticket cancelled before it got here (DELETE overtook the message) is recorded as left, and a ticket
  // the store refused will never be matched: their orchestrators, started just now, finish at once
  // instead of waiting for their deadline.
  const finished = result.results.filter((r) => r.outcome === "rejected" || (r.outcome === "duplicate" && r.state === "left"));
  await forEachLimit(finished, START_CONCURRENCY, async (r) => {
    await raiseEventIfExists(client, r.playerId, CANCEL_EVENT, { ticketId: r.ticketId });
  });
  const queued = result.results.filter((r) => r.outcome === "queued").length;
  const duplicates = result.results.filter((r) => r.outcome === "duplicate").length;
  context.log(`addPlayers: ${batch.length} message(s): ${queued} queued, ${duplicates} duplicate, ${rejected.length} rejected`);

  // Sessions this batch filled: assign now rather than at the next sweeper tick.
  const regions = [...new Set(result.readySessions.map((r) => r.region))];
  for (const region of regions) {
    const assigned = await st.assign(region);
    scaleOutSignal(context, assigned);
    // A failed send is not thrown: the sessions are safe in the store's outbox and the sweeper
    // re-publishes them; re-running this batch could not find them again anyway.
    await announce(st, publisher(), s.matchMadeHub, region, assigned.assigned, context);
  }
}

function stripMs(r: GoodRequest): object {
  const { requestedAtMs: _ms, ...rest } = r;
  return rest;
}

function enqueueRequest(r: GoodRequest): EnqueueRequest {
  return { ticketId: r.ticketId, playerId: r.playerId, mode: r.mode, region: r.region, requestedAtMs: r.requestedAtMs };
}

/**
 * Starts the orchestrator for this request unless that already happened.
 * - "proceed": the instance runs this ticket (started now or before): enqueue it (idempotent).
 * - "done": this ticket's instance already finished (a late redelivery): nothing to do.
 * - "busy": the player's instance runs ANOTHER ticket: this request is refused.
 */
async function ensureOrchestrator(client: DurableClient, req: GoodRequest, timeoutSeconds: number): Promise<"proceed" | "done" | "busy"> {
  const status = await getStatusOrNull(client, req.playerId);
  const ticket = ticketOf(status);
  if (isLive(status)) return ticket === req.ticketId ? "proceed" : "busy";
  if (status && ticket === req.ticketId) return "done";
  // The wait counts from the request, not from when this batch got to it; at least a few seconds remain
  // so that a request that sat in the hub (or a skewed client clock) still gets a chance.
  const elapsed = Math.max(0, (Date.now() - req.requestedAtMs) / 1000);
  const remaining = Math.min(timeoutSeconds, Math.max(MIN_WAIT_SECONDS, Math.ceil(timeoutSeconds - elapsed)));
  const input: MatchRequestInput = { ticketId: req.ticketId, playerId: req.playerId, mode: req.mode, region: req.region, timeoutSeconds: remaining };
  await client.startNew(ORCHESTRATOR_NAME, { instanceId: req.playerId, input });
  return "proceed";
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
