/**
 * The Event Hub consumer (local-runtime/host/eventHubs/consumer.ts) against a real Redis stream: events
 * appended while a read is on its way (the read comes back empty, their wake found no waiter) are read at
 * once, not at the next wake or poll; and after a checkpoint the next read goes with it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { consumePartition, type ConsumerHost, type ConsumerSpec } from "../../../local-runtime/host/eventHubs/consumer";
import { PartitionSignals } from "../../../local-runtime/host/eventHubs/signals";
import { EventStreams, type StoredEvent } from "../../../local-runtime/host/eventHubs/streams";
import type { InvokeRequest } from "../../../local-runtime/functionsCore";

const HUB = "wake-hub";
/** Longer than any test runs: a consumer that waits for the poll never delivers within the test. */
const POLL_MS = 600_000;
let streams: EventStreams;
beforeAll(async () => {
  streams = new EventStreams(inject("redisUrl"), `cw-${randomUUID()}`);
  await streams.connect();
});
afterAll(async () => {
  await streams.close();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the Event Hub consumer", () => {
  it("reads again at once when events came (and woke nobody) while an empty read was on its way", async () => {
    const partition = Math.floor(Math.random() * 1e6);
    const signals = new PartitionSignals();
    const append = async (n: number) => {
      await streams.append(HUB, partition, [{ body: { n } }], Date.now());
      signals.wake(HUB, partition); // as LocalEventHubs.send does
    };
    const batches: unknown[][] = [];
    const reads: number[] = [];
    let raceOnRead = 2; // the second read (the one after the first batch): an event lands while it is on its way
    const racingStreams = Object.create(streams) as EventStreams;
    racingStreams.read = async (hub, p, after, count): Promise<StoredEvent[]> => {
      const got = await streams.read(hub, p, after, count);
      reads.push(got.length);
      if (reads.length === raceOnRead) await append(99);
      return got;
    };
    let running = true;
    const spec: ConsumerSpec = { functionName: `fn-${randomUUID()}`, hubName: HUB, consumerGroup: "$Default", cardinality: "many" };
    const host: ConsumerHost = {
      streams: racingStreams,
      signals,
      invoker: {
        core: { get: () => ({ trigger: { name: "events" } }) },
        faults: { takeDuplicate: () => false },
        invoke: async (_fn: string, req: InvokeRequest) => {
          batches.push(JSON.parse((req.inputData![0]!.data as { json: string }).json) as unknown[]);
          return { invocationId: "x", outputData: [] };
        },
      } as unknown as ConsumerHost["invoker"],
      maxBatch: 100,
      checkpointEvery: 1,
      pollMs: POLL_MS,
      namespace: "local",
      isRunning: () => running,
      isCrashed: () => false,
      consumersOf: () => [spec.functionName],
      noteDelivered: () => undefined,
      noteDropped: () => undefined,
      trackInFlight: () => undefined,
      log: () => undefined,
    };
    await append(1);
    const loop = consumePartition(host, spec, partition);
    try {
      await until(() => batches.length === 2, "the event that came during the empty read");
      expect(batches).toEqual([[{ n: 1 }], [{ n: 99 }]]);
      expect(reads.slice(0, 3)).toEqual([1, 0, 1]);
      raceOnRead = -1;
      // And the checkpoint of each batch was stored.
      expect(await streams.loadCheckpoint(HUB, partition, spec.functionName)).not.toBe("0");
    } finally {
      running = false;
      signals.releaseAll();
      await loop;
    }
  });
});
