/**
 * The waiting gauges show a zone's latency pool (issue 14) as its own series (pool=latency, on the zone's
 * first region): its tickets are in no region's figures, and without these series they would not be seen.
 */
import { metrics } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { afterAll, expect, it } from "vitest";
import { recordDurableCall, setStatsSource, type StatsSnapshot } from "../../src/telemetry/metrics";

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
afterAll(() => {
  setStatsSource(undefined);
  metrics.disable();
});

it("observes the pool's waiting players per mode and its oldest wait beside the region's own", async () => {
  const region = (name: string, extra: Partial<StatsSnapshot> = {}): StatsSnapshot => ({
    region: name,
    waitingByMode: { geo: 2 },
    sessionsOpen: 0,
    sessionsReady: 1,
    serversAvailable: 0,
    serversAllocated: 0,
    oldestWaitMs: 1000,
    ...extra,
  });
  setStatsSource(async () => [region("westeurope", { latencyPool: { waitingByMode: { geo: 7 }, oldestWaitMs: 9000 } }), region("northeurope")]);
  recordDurableCall("startNew"); // makes the instruments, gauges included
  await reader.forceFlush();
  const points = (name: string) =>
    exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
  expect(points("matchmaker.players.waiting")).toEqual(
    expect.arrayContaining([
      { attributes: { mode: "geo", region: "westeurope" }, value: 2 },
      { attributes: { mode: "geo", region: "westeurope", pool: "latency" }, value: 7 },
      { attributes: { mode: "geo", region: "northeurope" }, value: 2 },
    ]),
  );
  expect(points("matchmaker.players.waiting")).toHaveLength(3);
  expect(points("matchmaker.players.oldest_wait")).toEqual(
    expect.arrayContaining([
      { attributes: { region: "westeurope" }, value: 1 },
      { attributes: { region: "westeurope", pool: "latency" }, value: 9 },
    ]),
  );
});
