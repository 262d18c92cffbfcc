/**
 * The Event Hub trigger's input and metadata in the shapes the host sends (PascalCase keys; the library
 * camelCases them): one event for cardinality "one", arrays for "many".
 */
import type { InvokeRequest, RpcTypedData } from "../../functionsCore";
import type { StoredEvent } from "./streams";

export interface TriggerTarget {
  triggerName: string;
  consumerGroup: string;
  hubName: string;
  namespace: string;
  partition: number;
  cardinality: "one" | "many";
}

const json = (v: unknown): RpcTypedData => ({ json: JSON.stringify(v) });

function parseBody(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

const enqueued = (e: StoredEvent) => new Date(e.enqueuedMs).toISOString();

function systemProperties(e: StoredEvent): Record<string, unknown> {
  return {
    "x-opt-sequence-number": e.seq,
    "x-opt-offset": e.id,
    "x-opt-enqueued-time": enqueued(e),
    ...(e.partitionKey !== null ? { "x-opt-partition-key": e.partitionKey } : {}),
    SequenceNumber: e.seq,
    Offset: e.id,
    PartitionKey: e.partitionKey,
    EnqueuedTimeUtc: enqueued(e),
  };
}

export function triggerRequest(t: TriggerTarget, batch: StoredEvent[]): InvokeRequest {
  const partitionContext = { ConsumerGroup: t.consumerGroup, EventHubName: t.hubName, FullyQualifiedNamespace: t.namespace, PartitionId: String(t.partition) };
  if (t.cardinality === "one") {
    const e = batch[0]!;
    return {
      inputData: [{ name: t.triggerName, data: json(parseBody(e.body)) }],
      triggerMetadata: {
        PartitionContext: json(partitionContext),
        EnqueuedTimeUtc: json(enqueued(e)),
        SequenceNumber: json(e.seq),
        Offset: json(e.id),
        PartitionKey: json(e.partitionKey),
        Properties: json(e.properties),
        SystemProperties: json(systemProperties(e)),
      },
    };
  }
  return {
    inputData: [{ name: t.triggerName, data: json(batch.map((e) => parseBody(e.body))) }],
    triggerMetadata: {
      PartitionContext: json(partitionContext),
      EnqueuedTimeUtcArray: json(batch.map(enqueued)),
      SequenceNumberArray: json(batch.map((e) => e.seq)),
      OffsetArray: json(batch.map((e) => e.id)),
      PartitionKeyArray: json(batch.map((e) => e.partitionKey)),
      PropertiesArray: json(batch.map((e) => e.properties)),
      SystemPropertiesArray: json(batch.map(systemProperties)),
    },
  };
}
