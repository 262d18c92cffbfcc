import { describe, expect, it } from "vitest";
import {
  ASSUMED_MS_PER_EXECUTION,
  costPerMillionPlayers,
  designCounts,
  EVENTHUB_ASSUMED_UTILISATION,
  EVENTHUB_EVENTS_PER_SECOND_PER_TU,
  EVENTHUB_PRICE_PER_MILLION_EVENTS,
  EVENTHUB_PRICE_PER_TU_HOUR,
  FLEX_INSTANCE_MEMORY_GB,
  FLEX_PRICE_PER_GB_SECOND,
  FLEX_PRICE_PER_MILLION_EXECUTIONS,
  QUEUE_PRICE_PER_10K_TRANSACTIONS,
  REDIS_ASSUMED_UTILISATION,
  REDIS_PRICE_PER_HOUR,
  referenceCounts,
  TABLE_PRICE_PER_10K_TRANSACTIONS,
  TASKHUB_TX,
  type PerPlayerCounts,
} from "../../bench/costModel";

const zero: PerPlayerCounts = {
  eventHubExecutions: 0,
  orchestratorEpisodes: 0,
  activityExecutions: 0,
  httpExecutions: 0,
  timerExecutions: 0,
  eventHubEvents: 0,
  orchestrationMessages: 0,
  instanceStarts: 0,
  durableTimers: 0,
  statusQueries: 0,
  redisPlayersPerSecond: 0,
};

describe("cost model arithmetic", () => {
  it("one HTTP execution per player costs the per-execution price plus its GB-s, per million players", () => {
    const c = costPerMillionPlayers({ ...zero, httpExecutions: 1 });
    expect(c.executions).toBeCloseTo(FLEX_PRICE_PER_MILLION_EXECUTIONS, 10);
    expect(c.gbSeconds).toBeCloseTo((ASSUMED_MS_PER_EXECUTION.http / 1000) * FLEX_INSTANCE_MEMORY_GB * 1e6 * FLEX_PRICE_PER_GB_SECOND, 10);
    expect(c.storage).toBe(0);
    expect(c.functionExecutionsPerPlayer).toBe(1);
  });

  it("an orchestrator episode costs an execution and its task hub transactions", () => {
    const c = costPerMillionPlayers({ ...zero, orchestratorEpisodes: 1 });
    const queue = (TASKHUB_TX.queuePerEpisode * 1e6 * QUEUE_PRICE_PER_10K_TRANSACTIONS) / 1e4;
    const table = (TASKHUB_TX.tablePerEpisode * 1e6 * TABLE_PRICE_PER_10K_TRANSACTIONS) / 1e4;
    expect(c.storage).toBeCloseTo(queue + table, 10);
    expect(c.storageTransactionsPerPlayer).toBe(TASKHUB_TX.queuePerEpisode + TASKHUB_TX.tablePerEpisode);
    expect(c.executions).toBeCloseTo(FLEX_PRICE_PER_MILLION_EXECUTIONS, 10);
  });

  it("Event Hub events pay per event plus TU-hours at the assumed utilisation", () => {
    const c = costPerMillionPlayers({ ...zero, eventHubEvents: 2 });
    expect(c.eventHubEvents).toBeCloseTo(2 * EVENTHUB_PRICE_PER_MILLION_EVENTS, 10);
    const tuHours = 2e6 / (EVENTHUB_EVENTS_PER_SECOND_PER_TU * EVENTHUB_ASSUMED_UTILISATION * 3600);
    expect(c.eventHubThroughputUnits).toBeCloseTo(tuHours * EVENTHUB_PRICE_PER_TU_HOUR, 10);
  });

  it("the Redis hour is shared over the players it carries: twice the throughput, half the share", () => {
    const a = costPerMillionPlayers({ ...zero, redisPlayersPerSecond: 1000 });
    const b = costPerMillionPlayers({ ...zero, redisPlayersPerSecond: 2000 });
    expect(a.redis).toBeCloseTo((1e6 / (1000 * REDIS_ASSUMED_UTILISATION * 3600)) * REDIS_PRICE_PER_HOUR, 10);
    expect(b.redis).toBeCloseTo(a.redis / 2, 10);
    expect(a.total).toBeCloseTo(a.redis, 10);
    // No throughput measured: no Redis share, and the total stays finite.
    const none = costPerMillionPlayers(zero);
    expect(none.redis).toBeNaN();
    expect(none.total).toBe(0);
  });

  it("total is the sum of the items", () => {
    const c = costPerMillionPlayers(designCounts({ sessionSize: 4, batchSize: 100, polls: 2, redisPlayersPerSecond: 20_000 }));
    expect(c.total).toBeCloseTo(c.executions + c.gbSeconds + c.eventHubEvents + c.eventHubThroughputUnits + c.storage + c.redis, 10);
  });

  it("our design counts vs the reference's, as read from the code", () => {
    const ours = designCounts({ sessionSize: 4, batchSize: 100, polls: 2, redisPlayersPerSecond: 1 });
    const ref = referenceCounts({ sessionSize: 4, batchSize: 100, polls: 2, redisPlayersPerSecond: 1 });
    expect(ours.orchestratorEpisodes).toBe(2);
    expect(ours.activityExecutions).toBe(0);
    expect(ref.orchestratorEpisodes).toBe(3);
    expect(ref.activityExecutions).toBe(1);
    // addPlayers once per 100 players, matchMade once per 100 sessions of 4.
    expect(ours.eventHubExecutions).toBeCloseTo(1 / 100 + 1 / 400, 12);
    expect(ours.eventHubEvents).toBeCloseTo(1.25, 12);
    // Our polls are HTTP executions (ticket endpoint), the reference's are Durable status reads.
    expect(ours.httpExecutions).toBe(3);
    expect(ref.statusQueries).toBe(2);
  });
});
