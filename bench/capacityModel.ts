/**
 * Capacity of one regional deployment (one stamp), from the counts the bench measured: which part caps the
 * players per second, for each Durable backend. Every limit is a constant with its source beside it; the
 * bench does not fetch them. A limit read from the design notes (DESIGN.md §4) was checked there against the
 * services' documentation.
 */

export interface Limit {
  value: number;
  unit: string;
  source: string;
}

export const LIMITS = {
  eventHubsEventsPerSecPerTU: {
    value: 1000,
    unit: "ingress events/s per throughput unit",
    source: "Event Hubs Standard: 1 TU = 1 MB/s or 1,000 events/s in (DESIGN.md §4)",
  },
  eventHubsMaxTUs: {
    value: 40,
    unit: "TUs per Standard namespace",
    source: "Event Hubs quotas and limits, Standard tier: up to 40 throughput units per namespace",
  },
  eventHubsPartitions: {
    value: 32,
    unit: "partitions per event hub (Standard)",
    source: "DESIGN.md §4: 32 partitions max on Standard; the trigger runs at most one instance per partition",
  },
  flexMaxInstances: { value: 1000, unit: "instances per app", source: "DESIGN.md §4: Flex Consumption scales to 1,000 instances" },
  dtsDedicatedActionsPerSecPerCU: {
    value: 2000,
    unit: "actions/s per capacity unit",
    source: "Durable Task Scheduler Dedicated SKU page: up to 2,000 actions/s and 50 GB per CU",
  },
  dtsDedicatedMaxCUs: { value: 3, unit: "capacity units", source: "Durable Task Scheduler Dedicated SKU page: up to three CUs can be purchased" },
  dtsConsumptionActionsPerSec: { value: 500, unit: "actions/s", source: "DESIGN.md §4: Durable Task Scheduler Consumption about 500 actions/s" },
  azureStorageEventsPerSecPerPartition: {
    value: 50,
    unit: "external events/s per partition worker",
    source: "DESIGN.md §4: Azure Storage provider about 50 external events/s per instance",
  },
  azureStorageMaxPartitions: { value: 16, unit: "control-queue partitions", source: "DESIGN.md §4: Azure Storage provider 1–16 partitions" },
} satisfies Record<string, Limit>;

export interface CapacityInputs {
  /** Players/s our Redis scripts sustained in this run (loopback, 4-player sessions). */
  redisPlayersPerSec?: number;
  /** Same across the ~1 ms emulated link, when measured. */
  redisPlayersPerSecOverLink?: number;
  /** Durable actions per matched player: started orchestrations + external events raised + activities (DTS definition). */
  durableActionsPerMatched: number;
  /** External events per matched player (ServerReady). */
  externalEventsPerMatched: number;
  /** Event Hub events per matched player (player-requests + its share of match-made). */
  eventHubEventsPerMatched: number;
  /** Where the Durable counts come from (measured or by design). */
  durableSource: string;
}

export interface CapacityRow {
  part: string;
  playersPerSec: number;
  how: string;
}

/** Players/s each part allows in one region; the smallest is the deployment's ceiling for that backend. */
export function capacityRows(c: CapacityInputs): { shared: CapacityRow[]; backends: CapacityRow[] } {
  const L = LIMITS;
  const shared: CapacityRow[] = [];
  const redis = c.redisPlayersPerSecOverLink ?? c.redisPlayersPerSec;
  if (redis !== undefined)
    shared.push({
      part: "Redis (one shard; our scripts)",
      playersPerSec: redis,
      how:
        c.redisPlayersPerSecOverLink !== undefined
          ? "measured across the ~1 ms link, this machine"
          : "measured on loopback, this machine (Azure Managed Redis differs)",
    });
  shared.push({
    part: "Event Hubs Standard (one namespace)",
    playersPerSec: (L.eventHubsMaxTUs.value * L.eventHubsEventsPerSecPerTU.value) / c.eventHubEventsPerMatched,
    how: `${L.eventHubsMaxTUs.value} TU × ${L.eventHubsEventsPerSecPerTU.value} events/s ÷ ${c.eventHubEventsPerMatched.toFixed(2)} events per player`,
  });
  const backends: CapacityRow[] = [
    {
      part: "Durable Task Scheduler, Dedicated (3 CU)",
      playersPerSec: (L.dtsDedicatedMaxCUs.value * L.dtsDedicatedActionsPerSecPerCU.value) / c.durableActionsPerMatched,
      how: `${L.dtsDedicatedMaxCUs.value} × ${L.dtsDedicatedActionsPerSecPerCU.value} actions/s ÷ ${c.durableActionsPerMatched.toFixed(2)} actions per player`,
    },
    {
      part: "Durable Task Scheduler, Dedicated (1 CU)",
      playersPerSec: L.dtsDedicatedActionsPerSecPerCU.value / c.durableActionsPerMatched,
      how: `${L.dtsDedicatedActionsPerSecPerCU.value} actions/s ÷ ${c.durableActionsPerMatched.toFixed(2)} actions per player`,
    },
    {
      part: "Durable Task Scheduler, Consumption",
      playersPerSec: L.dtsConsumptionActionsPerSec.value / c.durableActionsPerMatched,
      how: `${L.dtsConsumptionActionsPerSec.value} actions/s ÷ ${c.durableActionsPerMatched.toFixed(2)} actions per player`,
    },
    {
      part: "Azure Storage provider (16 partitions)",
      playersPerSec: (L.azureStorageMaxPartitions.value * L.azureStorageEventsPerSecPerPartition.value) / Math.max(1e-9, c.externalEventsPerMatched),
      how: `${L.azureStorageMaxPartitions.value} × ${L.azureStorageEventsPerSecPerPartition.value} external events/s ÷ ${c.externalEventsPerMatched.toFixed(2)} per player`,
    },
  ];
  return { shared, backends };
}

export function capacityAssumptionsMarkdown(): string[] {
  return [
    "Limits assumed (not fetched by the bench; the constants are in `bench/capacityModel.ts`):",
    "",
    ...Object.values(LIMITS).map((l) => `- ${l.value} ${l.unit} — ${l.source}`),
  ];
}
