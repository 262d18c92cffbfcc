/**
 * OpenTelemetry for the function app, chosen by the environment once per process:
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING` set: the Azure Monitor distro (`@azure/monitor-opentelemetry`),
 *   metrics and traces to Application Insights;
 * - else `OTEL_EXPORTER_OTLP_ENDPOINT` set: OTLP/HTTP exporters for metrics and traces (the standard
 *   OTEL_EXPORTER_OTLP_* variables configure them);
 * - else nothing is registered: the product's meter and tracer stay the API's no-ops, so telemetry that is
 *   off costs a function call per record and no memory, no timers, no network.
 *
 * Hosts that want the figures themselves (the local runtime's Prometheus page, tests with in-memory
 * exporters) call startTelemetry() with their own readers/processors BEFORE the app loads; the app's own
 * call (src/telemetry/start.ts, first import of src/index.ts) then finds it started and adds nothing.
 */
import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import type * as AzureMonitorDistro from "@azure/monitor-opentelemetry";
import type * as OtlpMetrics from "@opentelemetry/exporter-metrics-otlp-http";
import type * as OtlpTraces from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";

export interface TelemetryExtras {
  /** Readers added to the meter provider (Prometheus, in-memory). */
  metricReaders?: MetricReader[];
  /** Span processors added to the tracer provider (in-memory). */
  spanProcessors?: SpanProcessor[];
}

export type TelemetryBackend = "azureMonitor" | "otlp" | "host" | "off";

export interface TelemetryHandle {
  backend: TelemetryBackend;
  /** The extra readers this telemetry collects for (a host's reader is absent if telemetry started without it). */
  metricReaders: readonly MetricReader[];
  /** Flushes what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

export const SERVICE_NAME = "matchmaker";

let started: TelemetryHandle | undefined;

/** Which backend the environment asks for (no side effects). */
export function telemetryBackend(env: Env, extras: TelemetryExtras = {}): TelemetryBackend {
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim()) return "azureMonitor";
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) return "otlp";
  if (extras.metricReaders?.length || extras.spanProcessors?.length) return "host";
  return "off";
}

/** Starts telemetry once per process; later calls return the first handle. */
export function startTelemetry(env: Env = process.env, extras: TelemetryExtras = {}): TelemetryHandle {
  if (started) return started;
  const backend = telemetryBackend(env, extras);
  started = backend === "azureMonitor" ? startAzureMonitor(env, extras) : backend === "off" ? offHandle() : startSdk(backend, extras);
  return started;
}

/** The handle of this process, if telemetry was started. */
export function telemetryHandle(): TelemetryHandle | undefined {
  return started;
}

function offHandle(): TelemetryHandle {
  return { backend: "off", metricReaders: [], flush: async () => undefined, shutdown: async () => undefined };
}

function startAzureMonitor(env: Env, extras: TelemetryExtras): TelemetryHandle {
  // Loaded only when configured: the distro pulls in the whole Node SDK and its instrumentations, which a
  // cold start without Application Insights should not pay for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const distro = require("@azure/monitor-opentelemetry") as typeof AzureMonitorDistro;
  const ratio = Number(env.MATCHMAKER_TRACE_SAMPLING_RATIO ?? "1");
  distro.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING!.trim(), credential: entraCredential(env) },
    resource: resourceFromAttributes({ "service.name": SERVICE_NAME }),
    // Fixed-ratio sampling (default: every trace) instead of the distro's 5 traces per second: an operator
    // looking for one stuck player needs that player's trace to exist.
    samplingRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    tracesPerSecond: 0,
    enableLiveMetrics: true,
    metricReaders: extras.metricReaders,
    spanProcessors: extras.spanProcessors,
  });
  return {
    backend: "azureMonitor",
    metricReaders: extras.metricReaders ?? [],
    flush: async () => {
      await Promise.all([forceFlush(metrics.getMeterProvider()), forceFlush(trace.getTracerProvider())]);
    },
    shutdown: () => distro.shutdownAzureMonitor(),
  };
}

/**
 * The Entra ID credential the exporter signs in with when local auth is off on the Application Insights
 * resource (the template sets `APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD`, the same
 * setting the Functions host reads; `;ClientId=<id>` picks a user-assigned identity).
 */
export function entraCredential(env: Env): TokenCredential | undefined {
  const fields = new Map(
    (env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? "")
      .split(";")
      .map((part) => part.split("=").map((x) => x.trim()) as [string, string?])
      .filter(([k]) => k)
      .map(([k, v]) => [k.toLowerCase(), v ?? ""]),
  );
  if (fields.get("authorization")?.toUpperCase() !== "AAD") return undefined;
  const clientId = fields.get("clientid");
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/** The plain SDK: OTLP exporters (backend "otlp") plus whatever the host brought. */
function startSdk(backend: "otlp" | "host", extras: TelemetryExtras): TelemetryHandle {
  const resource = resourceFromAttributes({ "service.name": SERVICE_NAME });
  const readers: MetricReader[] = [...(extras.metricReaders ?? [])];
  const processors: SpanProcessor[] = [...(extras.spanProcessors ?? [])];
  if (backend === "otlp") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPMetricExporter } = require("@opentelemetry/exporter-metrics-otlp-http") as typeof OtlpMetrics;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http") as typeof OtlpTraces;
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() }));
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  // Spans only when something takes them (the local runtime's Prometheus page takes metrics only): an
  // unexported span would still cost its recording on every request and message.
  const tracerProvider = processors.length ? new NodeTracerProvider({ resource, spanProcessors: processors }) : undefined;
  // register(): the global tracer provider, an AsyncLocalStorage context manager (spans follow async
  // calls: the HTTP span is the parent of the Event Hubs send inside the handler) and the W3C propagator.
  tracerProvider?.register();
  return {
    backend,
    metricReaders: extras.metricReaders ?? [],
    flush: async () => {
      await Promise.all([meterProvider.forceFlush(), tracerProvider?.forceFlush()]);
    },
    shutdown: async () => {
      await Promise.all([meterProvider.shutdown(), tracerProvider?.shutdown()]);
    },
  };
}

async function forceFlush(provider: unknown): Promise<void> {
  const p = provider as { forceFlush?: () => Promise<void>; getDelegate?: () => unknown };
  if (typeof p.forceFlush === "function") return p.forceFlush();
  const inner = p.getDelegate?.() as { forceFlush?: () => Promise<void> } | undefined;
  if (typeof inner?.forceFlush === "function") await inner.forceFlush();
}
