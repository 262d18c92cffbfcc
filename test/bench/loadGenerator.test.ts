/** The ceiling scenario's open-loop generator: it offers rate × seconds requests on schedule, whatever the server does. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { runStep } from "../../bench/loadGenerator";

describe("open-loop load generator", () => {
  it("sends rate × seconds tickets on schedule even when answers are slow, and counts refusals as failures", async () => {
    let n = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const { playerId } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { playerId: string };
        const i = n++;
        // Every answer takes 150 ms: a closed loop of a few clients would fall far below the rate.
        setTimeout(() => {
          if (i % 10 === 9) res.writeHead(429, { "content-type": "application/json" }).end('{"error":"rate_limited"}');
          else res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ ticketId: `t-${playerId}` }));
        }, 150);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const started = Date.now();
      const r = await runStep({ type: "step", baseUrl, ratePerSec: 200, seconds: 0.5, playerPrefix: "g-", mode: "squad", region: "westeurope" });
      expect(r.accepted.length + r.failed).toBe(100);
      expect(r.failed).toBe(10);
      expect(r.failures[0]).toContain("429");
      expect(r.accepted[0]![0]).toMatch(/^t-g-\d+$/);
      // Open loop: all 100 went out within the half second (plus scheduling slack), not 100 × 150 ms.
      const sentSpanMs = Math.max(...r.accepted.map(([, at]) => at)) - Math.min(...r.accepted.map(([, at]) => at));
      expect(sentSpanMs).toBeLessThan(1_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(r.answerP50Ms).toBeGreaterThanOrEqual(140);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
