/** Without a connection string, an OTLP endpoint or a host's reader, telemetry registers nothing. */
import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { expect, it } from "vitest";
import { ManagedIdentityCredential } from "@azure/identity";
import { entraCredential, startTelemetry, telemetryBackend } from "../../src/telemetry/setup";
import { recordTicketCreated } from "../../src/telemetry/metrics";
import { traceparentOf, tracer, withTraceparent } from "../../src/telemetry/tracing";

it("chooses the backend from the environment", () => {
  expect(telemetryBackend({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318" })).toBe(
    "azureMonitor",
  );
  expect(telemetryBackend({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318" })).toBe("otlp");
  expect(telemetryBackend({ APPLICATIONINSIGHTS_CONNECTION_STRING: "  ", OTEL_EXPORTER_OTLP_ENDPOINT: "" })).toBe("off");
  expect(telemetryBackend({})).toBe("off");
});

it("off: no provider is registered, spans are no-ops and events get no traceparent", () => {
  const handle = startTelemetry({});
  expect(handle.backend).toBe("off");
  expect(metrics.getMeterProvider()).not.toBeInstanceOf(MeterProvider);
  recordTicketCreated("duel", "westeurope"); // a no-op, and no throw
  const span = tracer().startSpan("x");
  expect(span.isRecording()).toBe(false);
  span.end();
  expect(traceparentOf()).toBeUndefined();
  expect(withTraceparent({ a: "1" })).toEqual({ a: "1" });
  expect(trace.getActiveSpan()).toBeUndefined();
  // Once per process: a later call with readers does not turn it on behind the app's back.
  expect(startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" }).backend).toBe("off");
});

it("signs the Azure Monitor exporter in with a managed identity when the authentication string says AAD", () => {
  expect(entraCredential({})).toBeUndefined();
  expect(entraCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD" })).toBeInstanceOf(ManagedIdentityCredential);
  expect(entraCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "authorization=aad; ClientId=0000-1111" })).toBeInstanceOf(ManagedIdentityCredential);
  expect(entraCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=Key" })).toBeUndefined();
});
