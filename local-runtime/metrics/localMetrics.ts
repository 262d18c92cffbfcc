/**
 * The app's OpenTelemetry metrics under `npm start`: the local runtime registers this reader before the
 * app loads (startTelemetry with extra readers), then serves what it collects
 * - as JSON at `GET /runtime/local/metrics` (under `telemetry`, next to the host's own counters), and
 * - as Prometheus text at `GET /runtime/local/metrics/prometheus`, written by the OpenTelemetry
 *   Prometheus exporter's own serializer, for people who scrape.
 *
 * Collecting runs the observable gauges' callbacks, i.e. one stats read per region per request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HrTime } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { DataPointType, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { startTelemetry, type TelemetryHandle } from "../../src/telemetry/setup";

export const PROMETHEUS_PATH = "/runtime/local/metrics/prometheus";

export interface PointJson {
  attributes: Record<string, string | number | boolean>;
  /** Counters and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** Upper bounds and the count of points at or below each (not cumulative), the last one for +Inf. */
  boundaries?: number[];
  counts?: number[];
}

export interface MetricJson {
  kind: "counter" | "gauge" | "histogram" | "upDownCounter";
  unit: string;
  description: string;
  points: PointJson[];
}

export interface TelemetryJson {
  at: string;
  metrics: Record<string, MetricJson>;
  /** Figures derived from the counters. */
  derived: { durableCallsPerMatchedPlayer: number | null };
}

export class LocalMetrics {
  readonly exporter = new PrometheusExporter({ preventServerStart: true });
  private telemetry: TelemetryHandle | undefined;

  /** Registers the reader with the app's telemetry; call before the app entry loads. */
  install(env: Record<string, string | undefined> = process.env): TelemetryHandle {
    this.telemetry = startTelemetry(env, { metricReaders: [this.exporter] });
    return this.telemetry;
  }

  /** Whether the reader is part of the running telemetry (it is not if something else started telemetry first). */
  get active(): boolean {
    return this.telemetry?.metricReaders.includes(this.exporter) ?? false;
  }

  async collect(): Promise<ResourceMetrics | undefined> {
    if (!this.active) return undefined;
    const { resourceMetrics } = await this.exporter.collect();
    return resourceMetrics;
  }

  async json(): Promise<TelemetryJson> {
    const rm = await this.collect();
    return toJson(rm);
  }

  /**
   * Answers the two paths this module owns; false for any other request. (The exporter's own handler
   * writes `text/plain; version=0.0.4`, the format Prometheus scrapes.)
   */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname !== PROMETHEUS_PATH || (req.method ?? "GET").toUpperCase() !== "GET") return false;
    if (!this.active) {
      res.writeHead(503, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ error: "telemetry_off", detail: "telemetry was started without the local runtime's reader" }));
      return true;
    }
    this.exporter.getMetricsRequestHandler(req, res);
    return true;
  }
}

function hrToIso(t: HrTime): string {
  return new Date(t[0] * 1000 + Math.floor(t[1] / 1e6)).toISOString();
}

export function toJson(rm: ResourceMetrics | undefined): TelemetryJson {
  const out: Record<string, MetricJson> = {};
  let latest: HrTime | undefined;
  for (const scope of rm?.scopeMetrics ?? []) {
    for (const m of scope.metrics) {
      const kind: MetricJson["kind"] =
        m.dataPointType === DataPointType.HISTOGRAM
          ? "histogram"
          : m.dataPointType === DataPointType.GAUGE
            ? "gauge"
            : (m as { isMonotonic?: boolean }).isMonotonic === false
              ? "upDownCounter"
              : "counter";
      const points: PointJson[] = m.dataPoints.map((p) => {
        latest = p.endTime;
        const attributes = p.attributes as PointJson["attributes"];
        if (typeof p.value === "number") return { attributes, value: p.value };
        const h = p.value as { count: number; sum?: number; min?: number; max?: number; buckets: { boundaries: number[]; counts: number[] } };
        return { attributes, count: h.count, sum: h.sum, min: h.min, max: h.max, boundaries: h.buckets.boundaries, counts: h.buckets.counts };
      });
      out[m.descriptor.name] = { kind, unit: m.descriptor.unit, description: m.descriptor.description, points };
    }
  }
  const total = (name: string) => (out[name]?.points ?? []).reduce((acc, p) => acc + (p.value ?? 0), 0);
  const matched = total("matchmaker.tickets.matched");
  return {
    at: latest ? hrToIso(latest) : new Date().toISOString(),
    metrics: out,
    derived: { durableCallsPerMatchedPlayer: matched > 0 ? total("matchmaker.durable.calls") / matched : null },
  };
}
