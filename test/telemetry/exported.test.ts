/**
 * What the app exports, read through the SDK's in-memory exporters: the real app in the local runtime
 * (real HTTP, in-process Event Hubs carrying the event properties, the real Durable replay), telemetry
 * started with an InMemoryMetricExporter and an InMemorySpanExporter before the app loads (as the local
 * runtime does with its Prometheus reader).
 *
 * A match of two players produces the counters, the histogram points, the script and Durable figures,
 * the gauges, and for the ticket that filled the session ONE connected trace from its HTTP request across
 * both hubs to the match-made handling and its orchestration.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SpanKind } from "@opentelemetry/api";
import { expect, it } from "vitest";
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, PeriodicExportingMetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startTelemetry } from "../../src/telemetry/setup";
import { ATTR } from "../../src/telemetry/tracing";
import { api, matchSettings, until, useApp } from "../e2e/harness";

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const spanExporter = new InMemorySpanExporter();
const telemetry = startTelemetry({}, { metricReaders: [reader], spanProcessors: [new SimpleSpanProcessor(spanExporter)] });

const app = useApp(matchSettings({ duel: 2 }, ["westeurope"], 60));

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

async function exported(): Promise<Map<string, { type: DataPointType; points: Point[] }>> {
  metricExporter.reset();
  await reader.forceFlush();
  const all: ResourceMetrics[] = metricExporter.getMetrics();
  const out = new Map<string, { type: DataPointType; points: Point[] }>();
  for (const rm of all)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, { type: m.dataPointType, points: m.dataPoints as Point[] });
  return out;
}

const total = (m: { points: Point[] } | undefined, match: Record<string, unknown> = {}) =>
  (m?.points ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + Number(p.value), 0);

const attr = (s: ReadableSpan, k: string) => s.attributes[k];
const hasTicket = (s: ReadableSpan, ticketId: string) => {
  const v = attr(s, ATTR.ticketId);
  return v === ticketId || (Array.isArray(v) && (v as unknown[]).includes(ticketId));
};

it("a match exports the counters, histograms and gauges, and one connected trace from the HTTP request across both hubs", async () => {
  expect(telemetry.backend).toBe("host");
  const rt = app();
  const http = api(rt);
  const key = { "x-functions-key": rt.keys.functionKeys[0]! };
  expect((await http.call("PUT", "/api/servers/tel-srv1", { address: "10.1.0.1:7777" }, key)).status).toBeLessThan(300);

  const tickets: { playerId: string; ticketId: string; token: string }[] = [];
  for (const playerId of ["tel-a", "tel-b"]) {
    const res = await http.call("POST", "/api/tickets", { playerId });
    expect(res.status).toBe(202);
    tickets.push({ playerId, ticketId: res.json.ticketId, token: res.json.token });
  }
  // Both orchestrations decided: their outcome is what the matched counter counts.
  await until(async () => total((await exported()).get("matchmaker.tickets.matched")) === 2, "two matched tickets in the exported metrics", 30_000, 200);

  const m = await exported();
  expect(total(m.get("matchmaker.tickets.created"), { mode: "duel", region: "westeurope" })).toBe(2);
  expect(total(m.get("matchmaker.tickets.matched"), { mode: "duel", region: "westeurope" })).toBe(2);
  expect(total(m.get("matchmaker.tickets.timed_out"))).toBe(0);
  const ttm = m.get("matchmaker.time_to_match")!;
  expect(ttm.type).toBe(DataPointType.HISTOGRAM);
  const ttmPoint = ttm.points.find((p) => p.attributes.mode === "duel")!.value as { count: number; sum: number; max: number };
  expect(ttmPoint.count).toBe(2);
  expect(ttmPoint.sum).toBeGreaterThan(0);
  expect(ttmPoint.max).toBeLessThan(30);
  // The store's script hook: one histogram series per script name.
  const scripts = m.get("matchmaker.redis.script.duration")!;
  expect(scripts.type).toBe(DataPointType.HISTOGRAM);
  const scriptNames = scripts.points.map((p) => p.attributes.script);
  expect(scriptNames).toEqual(expect.arrayContaining(["enqueuePlayers", "assignSessions", "confirmAnnounced"]));
  for (const p of scripts.points) expect((p.value as { count: number }).count).toBeGreaterThan(0);
  // Durable calls: one start per ticket, one ServerReady per matched player (at least).
  const durable = m.get("matchmaker.durable.calls");
  expect(total(durable, { operation: "startNew" })).toBe(2);
  expect(total(durable, { operation: "raiseEvent" })).toBeGreaterThanOrEqual(2);
  // Gauges from the store's stats, read at collection time: nobody waits, the server is busy.
  expect(m.get("matchmaker.players.waiting")?.type).toBe(DataPointType.GAUGE);
  expect(total(m.get("matchmaker.players.waiting"), { mode: "duel", region: "westeurope" })).toBe(0);
  expect(total(m.get("matchmaker.servers"), { region: "westeurope", state: "busy" })).toBe(1);
  expect(total(m.get("matchmaker.servers"), { region: "westeurope", state: "free" })).toBe(0);
  expect(total(m.get("matchmaker.sessions.waiting_for_server"), { region: "westeurope" })).toBe(0);

  // ---- traces
  await telemetry.flush();
  const spans = spanExporter.getFinishedSpans();
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const parentOf = (s: ReadableSpan) => (s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined);

  const session = spans.find((s) => s.name === "matchMade" && hasTicket(s, tickets[0]!.ticketId) && hasTicket(s, tickets[1]!.ticketId));
  expect(session, "a matchMade span for the session of both tickets").toBeDefined();
  const sessionId = attr(session!, ATTR.sessionId);
  expect(sessionId).toMatch(/^westeurope\./);

  // Each ticket's trace starts at its HTTP request and reaches addPlayers through the player-requests hub.
  const traceOfTicket = new Map<string, string>();
  for (const t of tickets) {
    const request = spans.find((s) => s.name === "POST tickets" && attr(s, ATTR.ticketId) === t.ticketId);
    expect(request, `the HTTP span of ${t.playerId}`).toBeDefined();
    traceOfTicket.set(t.ticketId, request!.spanContext().traceId);
    const intake = spans.find((s) => s.name === "addPlayers" && attr(s, ATTR.ticketId) === t.ticketId)!;
    expect(intake.spanContext().traceId).toBe(request!.spanContext().traceId);
    const producer = parentOf(intake)!;
    expect(producer.name).toBe("send player-requests");
    expect(parentOf(producer)).toBe(request);
    // The orchestration's span is in the same trace, with the outcome and the session.
    const orchestration = spans.find((s) => s.name === "matchRequest" && attr(s, ATTR.ticketId) === t.ticketId)!;
    expect(orchestration.spanContext().traceId).toBe(request!.spanContext().traceId);
    expect(attr(orchestration, ATTR.outcome)).toBe("matched");
    expect(attr(orchestration, ATTR.sessionId)).toBe(sessionId);
    // ...and links to the delivery that told it.
    expect(orchestration.links.map((l) => l.context.spanId)).toContain(session!.spanContext().spanId);
  }

  // The session continues the trace of the ticket whose batch filled it: ONE trace from that ticket's
  // HTTP request over player-requests, the assignment and match-made to the ServerReady delivery.
  const traceId = session!.spanContext().traceId;
  expect([...traceOfTicket.values()]).toContain(traceId);
  const trace = spans.filter((s) => s.spanContext().traceId === traceId);
  const roots = trace.filter((s) => !parentOf(s));
  expect(roots.map((s) => s.name)).toEqual(["POST tickets"]);
  for (const s of trace) if (s !== roots[0]) expect(parentOf(s), `${s.name} has its parent in the trace`).toBeDefined();
  expect(new Set(trace.map((s) => s.name))).toEqual(
    new Set(
      ["POST tickets", "send player-requests", "addPlayers", "assign session", "matchMade", "matchRequest"].concat(
        trace.some((s) => s.name === "send match-made") ? ["send match-made"] : [],
      ),
    ),
  );
  const assign = parentOf(session!)!;
  expect(assign.name).toBe("assign session");
  expect(attr(assign, ATTR.sessionId)).toBe(sessionId);
  expect(parentOf(assign)!.name).toBe("addPlayers");
});

/** Application Insights' tables for spans, by kind (the Azure Monitor exporter's mapping). */
const TABLE_OF_KIND: Record<number, string> = {
  [SpanKind.SERVER]: "requests",
  [SpanKind.CONSUMER]: "requests",
  [SpanKind.INTERNAL]: "dependencies",
  [SpanKind.CLIENT]: "dependencies",
  [SpanKind.PRODUCER]: "dependencies",
};

it("the README's KQL queries name only metrics, spans, attributes and values the app exports, in the tables they land in", async () => {
  // Runs after the match above: its metrics and spans are still in the exporters.
  const metricsByName = await exported();
  const spans = spanExporter.getFinishedSpans();
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```kql\n([\s\S]*?)```/g)].map((b) => b[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  const checked = { names: 0, keys: 0, values: 0 };
  for (const block of blocks) {
    let tables: string[] = [];
    for (const line of block.split("\n")) {
      const source = /^\s*(?:let \w+ = )?(?:union )?((?:requests|dependencies|customMetrics)(?:, *(?:requests|dependencies|customMetrics))*)\b/.exec(line);
      if (source) tables = source[1]!.split(/, */);
      const spansHere = spans.filter((s) => tables.includes(TABLE_OF_KIND[s.kind]!));
      for (const [, name] of line.matchAll(/\bname == "([^"]+)"/g)) {
        const known = tables.includes("customMetrics") ? metricsByName.has(name!) : spansHere.some((s) => s.name === name);
        expect(known, `${tables.join("/")} has "${name}" (README: ${line.trim()})`).toBe(true);
        checked.names++;
      }
      for (const [, quoted, dotted, value] of line.matchAll(/customDimensions(?:\["([^"]+)"\]|\.(\w+))\)?(?: == "([^"]+)")?/g)) {
        const key = (quoted ?? dotted)!;
        const carriers = tables.includes("customMetrics")
          ? [...metricsByName.values()].flatMap((m) => m.points.map((p) => p.attributes))
          : spansHere.map((s) => s.attributes as Record<string, unknown>);
        expect(
          carriers.some((a) => Object.hasOwn(a, key)),
          `${tables.join("/")} carry customDimensions "${key}" (README: ${line.trim()})`,
        ).toBe(true);
        checked.keys++;
        if (value !== undefined) {
          // A player id in an example is the reader's to fill in; every other compared value must occur.
          if (key === ATTR.playerId) continue;
          expect(
            carriers.some((a) => a[key] === value),
            `some ${tables.join("/")} row has ${key} == "${value}"`,
          ).toBe(true);
          checked.values++;
        }
      }
    }
  }
  expect(checked.names).toBeGreaterThanOrEqual(3);
  expect(checked.keys).toBeGreaterThanOrEqual(10);
  expect(checked.values).toBeGreaterThanOrEqual(2);
});
