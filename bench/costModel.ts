/**
 * Cost model: Azure price per million matched players, from counts the bench measures (or, where it cannot
 * measure, counts it states). Every price is a named constant below with its unit, region and date.
 *
 * PRICES ARE ASSUMPTIONS, not fetched by the bench: USD list prices, pay-as-you-go, region East US, as recorded
 * by the author on 2026-11-21 from the public pricing pages (azure.microsoft.com/pricing/details/functions,
 * .../event-hubs, .../storage/queues, .../storage/tables, .../managed-redis). Free grants are ignored (they
 * would only lower the small numbers further). Check the pages before relying on the result; change the
 * constants here and re-run `npm run bench`.
 */

export const PRICES_RECORDED = "2026-11-21";
export const PRICE_REGION = "East US";

// --- Azure Functions, Flex Consumption, on-demand ---
/** USD per million executions (on-demand). */
export const FLEX_PRICE_PER_MILLION_EXECUTIONS = 0.4;
/** USD per GB-second of on-demand execution time (billed on the instance memory size). */
export const FLEX_PRICE_PER_GB_SECOND = 0.000026;
/** Instance memory size the app runs with (Flex default 2048 MB). */
export const FLEX_INSTANCE_MEMORY_GB = 2;
/**
 * Assumed mean billed duration per execution, ms. On Flex, concurrent executions on one instance share the
 * billed time, so these are per-execution shares under load, not wall times. Stated, not measured on Azure.
 */
export const ASSUMED_MS_PER_EXECUTION = {
  /** addPlayers: one Event Hub batch of 100, one Redis script call + starting 100 orchestrations. */
  eventHubBatch: 40,
  /** One orchestrator episode (replay of a short history). */
  orchestratorEpisode: 5,
  activity: 5,
  http: 5,
  /** assignSessions timer run. */
  timer: 20,
} as const;

// --- Event Hubs, Standard tier ---
/** USD per million ingress events (each event <= 64 KB). */
export const EVENTHUB_PRICE_PER_MILLION_EVENTS = 0.028;
/** USD per throughput-unit hour. */
export const EVENTHUB_PRICE_PER_TU_HOUR = 0.03;
/** One TU takes 1,000 ingress events/s. */
export const EVENTHUB_EVENTS_PER_SECOND_PER_TU = 1000;

// --- Storage (task hub of the Durable Functions Azure Storage provider), GPv2, LRS ---
/** USD per 10,000 queue operations. */
export const QUEUE_PRICE_PER_10K_TRANSACTIONS = 0.004;
/** USD per 10,000 table transactions. */
export const TABLE_PRICE_PER_10K_TRANSACTIONS = 0.00036;
/** USD per 10,000 blob write operations (hot tier). */
export const BLOB_WRITE_PRICE_PER_10K = 0.065;

/**
 * Estimated task hub storage transactions (Azure Storage provider). Stated estimate, not measured on Azure:
 *  - an episode: control-queue message get + delete (2 queue), history read + history batch write +
 *    instance row update (3 table);
 *  - each message an orchestration receives (start, raised event) costs 1 queue put at the sender;
 *  - starting an instance writes its instance row (1 table);
 *  - a durable timer: put (delayed) + get + delete when it fires, even after the orchestration finished (3 queue);
 *  - a status query (client polling): 1 table read;
 *  - blobs: none per episode (the provider puts a message or history payload in a blob only above ~45 KB;
 *    ours are well under 1 KB).
 * Excluded (fixed, not per player): partition lease blob renewals and empty-queue polling.
 */
export const TASKHUB_TX = {
  blobPerEpisode: 0,
  queuePerEpisode: 2,
  tablePerEpisode: 3,
  queuePerMessageSent: 1,
  tablePerInstanceStart: 1,
  queuePerTimer: 3,
  tablePerStatusQuery: 1,
} as const;

// --- Azure Managed Redis ---
/** USD per hour for the Redis instance assumed (Balanced B1). */
export const REDIS_PRICE_PER_HOUR = 0.12;
export const REDIS_SKU = "Azure Managed Redis Balanced_B1";
/**
 * Share of the bench-measured core throughput the instance is assumed to carry on average (it is sized for
 * the peak). The Redis bill is fixed per hour; its share per player is the hourly price over players per hour.
 */
export const REDIS_ASSUMED_UTILISATION = 0.25;
/** Same idea for Event Hubs throughput units (TU-hours are billed whether used or not). */
export const EVENTHUB_ASSUMED_UTILISATION = 0.5;

/** What one matched player costs in counts. */
export interface PerPlayerCounts {
  /** Event Hub triggered executions (addPlayers batches + matchMade batches), per player. */
  eventHubExecutions: number;
  orchestratorEpisodes: number;
  activityExecutions: number;
  /** HTTP function executions (ticket create, ticket polls through our endpoint), per player. */
  httpExecutions: number;
  /** Timer executions (assignSessions) attributed per player. */
  timerExecutions: number;
  /** Event Hub ingress events (player-requests + match-made), per player. */
  eventHubEvents: number;
  /** Messages sent to the player's orchestration (start + raised events). */
  orchestrationMessages: number;
  instanceStarts: number;
  durableTimers: number;
  statusQueries: number;
  /** Sustained core throughput used to share the fixed Redis hour (players/s, measured). */
  redisPlayersPerSecond: number;
}

export interface CostBreakdown {
  /** USD per million matched players, by item. */
  executions: number;
  gbSeconds: number;
  eventHubEvents: number;
  eventHubThroughputUnits: number;
  storage: number;
  redis: number;
  total: number;
  /** The counts behind it, per player. */
  functionExecutionsPerPlayer: number;
  storageTransactionsPerPlayer: number;
}

export function costPerMillionPlayers(c: PerPlayerCounts): CostBreakdown {
  const M = 1e6;
  const executionsPerPlayer = c.eventHubExecutions + c.orchestratorEpisodes + c.activityExecutions + c.httpExecutions + c.timerExecutions;
  const executions = executionsPerPlayer * M * (FLEX_PRICE_PER_MILLION_EXECUTIONS / M);
  const ms = ASSUMED_MS_PER_EXECUTION;
  const secondsPerPlayer =
    (c.eventHubExecutions * ms.eventHubBatch +
      c.orchestratorEpisodes * ms.orchestratorEpisode +
      c.activityExecutions * ms.activity +
      c.httpExecutions * ms.http +
      c.timerExecutions * ms.timer) /
    1000;
  const gbSeconds = secondsPerPlayer * FLEX_INSTANCE_MEMORY_GB * M * FLEX_PRICE_PER_GB_SECOND;
  const eventHubEvents = c.eventHubEvents * M * (EVENTHUB_PRICE_PER_MILLION_EVENTS / M);
  // TU-hours needed for a million players' events at the assumed utilisation.
  const tuHours = (c.eventHubEvents * M) / (EVENTHUB_EVENTS_PER_SECOND_PER_TU * EVENTHUB_ASSUMED_UTILISATION * 3600);
  const eventHubThroughputUnits = tuHours * EVENTHUB_PRICE_PER_TU_HOUR;
  const t = TASKHUB_TX;
  const queueTx = c.orchestratorEpisodes * t.queuePerEpisode + c.orchestrationMessages * t.queuePerMessageSent + c.durableTimers * t.queuePerTimer;
  const tableTx = c.orchestratorEpisodes * t.tablePerEpisode + c.instanceStarts * t.tablePerInstanceStart + c.statusQueries * t.tablePerStatusQuery;
  const blobTx = c.orchestratorEpisodes * t.blobPerEpisode;
  const storage =
    (queueTx * M * QUEUE_PRICE_PER_10K_TRANSACTIONS) / 1e4 +
    (tableTx * M * TABLE_PRICE_PER_10K_TRANSACTIONS) / 1e4 +
    (blobTx * M * BLOB_WRITE_PRICE_PER_10K) / 1e4;
  const redisHours = c.redisPlayersPerSecond > 0 ? M / (c.redisPlayersPerSecond * REDIS_ASSUMED_UTILISATION * 3600) : NaN;
  const redis = redisHours * REDIS_PRICE_PER_HOUR;
  return {
    executions,
    gbSeconds,
    eventHubEvents,
    eventHubThroughputUnits,
    storage,
    redis,
    total: executions + gbSeconds + eventHubEvents + eventHubThroughputUnits + storage + (Number.isFinite(redis) ? redis : 0),
    functionExecutionsPerPlayer: executionsPerPlayer,
    storageTransactionsPerPlayer: queueTx + tableTx + blobTx,
  };
}

/**
 * The reference's counts per matched player, read from its code (not measured; its Durable/Event Hub parts
 * cannot run here): one BatchAddPlayers execution per Event Hub batch; MatchRequest orchestration with start
 * episode, the ServerReady event episode, a FlushPlayer activity and the episode that completes after it
 * (3 episodes, 1 activity); one MatchMade execution per batch of session messages; the client polls the
 * Durable status endpoint (assumed `polls` times, same as ours); a 60 s timer per orchestration.
 */
export function referenceCounts(o: { sessionSize: number; batchSize: number; polls: number; redisPlayersPerSecond: number }): PerPlayerCounts {
  return {
    eventHubExecutions: 1 / o.batchSize + 1 / (o.sessionSize * o.batchSize),
    orchestratorEpisodes: 3,
    activityExecutions: 1,
    httpExecutions: 0, // the client posts to Event Hubs directly and polls the Durable webhook (not a function)
    timerExecutions: 0,
    eventHubEvents: 1 + 1 / o.sessionSize,
    orchestrationMessages: 3, // start, ServerReady, activity result
    instanceStarts: 1,
    durableTimers: 1,
    statusQueries: o.polls,
    redisPlayersPerSecond: o.redisPlayersPerSecond,
  };
}

/**
 * Our counts per matched player by design (used when the end-to-end run could not measure them): the HTTP
 * ticket create, addPlayers per batch, 2 orchestrator episodes (start, ServerReady), no activity for a
 * matched player, matchMade per batch of sessions, a timeout timer. The client polls our ticket endpoint
 * (an HTTP function reading Redis, `polls` times), not the Durable status endpoint, so polls are HTTP
 * executions, not task hub reads. The assignSessions timer is a fixed cost per hour, not per player (left out).
 */
export function designCounts(o: { sessionSize: number; batchSize: number; polls: number; redisPlayersPerSecond: number }): PerPlayerCounts {
  return {
    eventHubExecutions: 1 / o.batchSize + 1 / (o.sessionSize * o.batchSize),
    orchestratorEpisodes: 2,
    activityExecutions: 0,
    httpExecutions: 1 + o.polls,
    timerExecutions: 0,
    eventHubEvents: 1 + 1 / o.sessionSize,
    orchestrationMessages: 2,
    instanceStarts: 1,
    durableTimers: 1,
    statusQueries: 0,
    redisPlayersPerSecond: o.redisPlayersPerSecond,
  };
}

/** Times a production client polls its ticket before it sees the match (polling every ~1 s; stated). */
export const ASSUMED_POLLS_PER_PLAYER = 2;
/** Event Hub batch size at load (host.json maxEventBatchSize; batches are full when traffic is high). */
export const ASSUMED_EVENTHUB_BATCH = 100;

/** The assumed prices and counts above, in words: the list under "Assumed prices" in BENCHMARKS.md. */
export function assumedPricesMarkdown(): string[] {
  return [
    `Assumed prices (USD, pay-as-you-go, ${PRICE_REGION}, recorded ${PRICES_RECORDED}; not fetched by the bench — check the Azure pricing pages; the constants are in \`bench/costModel.ts\`):`,
    "",
    `- Functions Flex Consumption on-demand: $${FLEX_PRICE_PER_MILLION_EXECUTIONS} per million executions, $${FLEX_PRICE_PER_GB_SECOND} per GB-s at ${FLEX_INSTANCE_MEMORY_GB} GB instance memory; assumed billed ms per execution: ${Object.entries(
      ASSUMED_MS_PER_EXECUTION,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; free grants ignored.`,
    `- Event Hubs Standard: $${EVENTHUB_PRICE_PER_MILLION_EVENTS} per million ingress events; $${EVENTHUB_PRICE_PER_TU_HOUR} per TU-hour, ${EVENTHUB_EVENTS_PER_SECOND_PER_TU} events/s per TU at ${EVENTHUB_ASSUMED_UTILISATION * 100} % average utilisation; batches of ${ASSUMED_EVENTHUB_BATCH}.`,
    `- Storage (Durable task hub, Azure Storage provider, GPv2 LRS): queues $${QUEUE_PRICE_PER_10K_TRANSACTIONS} and tables $${TABLE_PRICE_PER_10K_TRANSACTIONS} per 10,000 transactions, blob writes $${BLOB_WRITE_PRICE_PER_10K} per 10,000. Transactions estimated, not measured: per episode ${TASKHUB_TX.queuePerEpisode} queue + ${TASKHUB_TX.tablePerEpisode} table + ${TASKHUB_TX.blobPerEpisode} blob (payloads stay inline below ~45 KB); ${TASKHUB_TX.queuePerMessageSent} queue per message sent to an orchestration; ${TASKHUB_TX.tablePerInstanceStart} table per instance start; ${TASKHUB_TX.queuePerTimer} queue per durable timer; ${TASKHUB_TX.tablePerStatusQuery} table per Durable status query. Lease renewals and idle polling are fixed costs, left out.`,
    `- ${REDIS_SKU}: $${REDIS_PRICE_PER_HOUR} per hour, carrying ${REDIS_ASSUMED_UTILISATION * 100} % of the throughput measured here on average.`,
    `- Clients: ${ASSUMED_POLLS_PER_PLAYER} ticket polls per player. Ours polls the ticket endpoint (an HTTP function reading Redis); the reference polls the Durable status endpoint (a task hub read, no function execution). The assignSessions timer is a fixed cost per hour, left out.`,
  ];
}
