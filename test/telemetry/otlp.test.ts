/** OTEL_EXPORTER_OTLP_ENDPOINT: metrics and traces go out as OTLP/HTTP to that endpoint. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, expect, it } from "vitest";
import { startTelemetry } from "../../src/telemetry/setup";
import { recordTicketCreated } from "../../src/telemetry/metrics";
import { inSpan, traceparentOf } from "../../src/telemetry/tracing";

const received: { path: string; type: string; bytes: number }[] = [];
const collector = createServer((req, res) => {
  let bytes = 0;
  req.on("data", (c: Buffer) => (bytes += c.length));
  req.on("end", () => {
    received.push({ path: req.url ?? "", type: String(req.headers["content-type"]), bytes });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
afterAll(() => new Promise<void>((r) => collector.close(() => r())));

it("exports metrics to /v1/metrics and spans to /v1/traces of the endpoint", async () => {
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  // The OTLP exporters read the standard variables themselves.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  const handle = startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  expect(handle.backend).toBe("otlp");
  recordTicketCreated("duel", "westeurope");
  let inner: string | undefined;
  await inSpan("POST tickets", {}, async () => {
    inner = traceparentOf();
  });
  expect(inner).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  await handle.flush();
  await handle.shutdown();
  expect(received.map((r) => r.path).sort()).toEqual(expect.arrayContaining(["/v1/metrics", "/v1/traces"]));
  for (const r of received) expect(r.bytes).toBeGreaterThan(0);
});
