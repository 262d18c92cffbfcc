/**
 * The scale-out signal and failed announcements as OpenTelemetry metrics (no more `METRIC {...}` log
 * lines): the real app's functions through the real invocation code, the real store, an in-memory
 * publisher that can fail a send, and telemetry started with an in-memory exporter before the app loads.
 */
import { expect, it } from "vitest";
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { startTelemetry } from "../../src/telemetry/setup";
import { SCALE_OUT_METRIC } from "../../src/usecases/scaleOut";
import { uniqueId as id, useTestApp } from "../functions/support/app";

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
startTelemetry({}, { metricReaders: [reader] });
const app = useTestApp();

/** The exported value of `name` for `region` (summed over its other attributes), undefined when it has no point there. */
async function valueOf(name: string, region: string): Promise<number | undefined> {
  exporter.reset();
  await reader.forceFlush();
  let out: number | undefined;
  for (const rm of exporter.getMetrics())
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === name) for (const p of m.dataPoints) if (p.attributes.region === region) out = (out ?? 0) + Number(p.value);
  return out;
}

const request = (playerId: string) => ({ ticketId: id("t"), playerId, mode: "duel", region: "eastus", requestedAt: new Date().toISOString() });

it("sessions waiting for a server are the gauge matchmaker.sessions.waiting_for_server, with one warning naming it; a failed announcement counts", async () => {
  const region = "eastus";
  expect(SCALE_OUT_METRIC).toBe("matchmaker.sessions.waiting_for_server");
  await app.eventHub("addPlayers", [request(id("a")), request(id("b"))]);
  app.logs.length = 0;
  await app.timer("assignSessions");

  // The metric operators alert on: one full session, no server.
  expect(await valueOf(SCALE_OUT_METRIC, region)).toBe(1);
  // For whoever reads the log: one warning for the region, naming the metric; no metric log lines.
  const warnings = app.logs.filter((l) => l.message.startsWith("scale-out:"));
  expect(warnings.map((l) => [l.level, l.message])).toEqual([
    ["warning", `scale-out: 1 full session(s) in ${region} wait for a game server (by mode: duel 1; servers free: 0); alert on the metric ${SCALE_OUT_METRIC}`],
  ]);
  expect(app.logs.filter((l) => /^(METRIC|SCALE-OUT) /.test(l.message))).toEqual([]);

  // A server comes, but the match-made send fails: the session waits no more, and the failure is counted.
  const serverId = id("gs");
  expect((await (await app.store()).registerServer({ serverId, region, address: "10.9.0.1:7777" })).outcome).toBe("registered");
  expect(await valueOf("matchmaker.announce.failed", region)).toBeUndefined();
  app.publisher.failures = 1;
  app.logs.length = 0;
  await app.timer("assignSessions");
  expect(await valueOf(SCALE_OUT_METRIC, region)).toBe(0);
  expect(await valueOf("matchmaker.announce.failed", region)).toBe(1);
  expect(app.logs.filter((l) => l.message.startsWith("scale-out:"))).toEqual([]);

  // The outbox re-sends it later; nothing more failed.
  app.advanceStoreClock(20_000);
  expect((await (await app.store()).registerServer({ serverId, region, address: "10.9.0.1:7777" })).outcome).toBe("heartbeat");
  const sentBefore = app.publisher.bodies("match-made").length;
  await app.timer("assignSessions");
  expect(app.publisher.bodies("match-made").length).toBe(sentBefore + 1);
  expect(await valueOf("matchmaker.announce.failed", region)).toBe(1);
});
