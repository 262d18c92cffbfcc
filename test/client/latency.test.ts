/**
 * The latency probe end to end: `GET /api/ping` on the real app in the local runtime (anonymous, 204, not
 * cached, no store read), and the client library's measureLatencies: the median of several probes per region,
 * a region that does not answer within the timeout left out.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchSettings, useApp } from "../e2e/harness";
import { findMatch, measureLatencies } from "../../client/index";

const app = useApp(matchSettings({ duel: 2 }, ["westeurope"], 30));
let silent: Server;
let silentUrl: string;
const heldOpen: ServerResponse[] = [];
beforeAll(async () => {
  // A "region" that accepts connections and never answers.
  silent = createServer((_req, res) => void heldOpen.push(res));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const r of heldOpen) r.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("latency probe", () => {
  it("GET /api/ping answers 204 without a body, never cached, to anyone", async () => {
    const r = await fetch(`${app().baseUrl}/api/ping`);
    expect(r.status).toBe(204);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await r.text()).toBe("");
  });

  it("measures the median of several probes per region and leaves out a region that does not answer in time", async () => {
    let probes = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).startsWith(app().baseUrl)) probes++;
      return fetch(input, init);
    };
    const started = Date.now();
    const latencies = await measureLatencies({
      regions: { westeurope: app().baseUrl, faraway: silentUrl },
      samples: 4,
      timeoutMs: 300,
      gapMs: 10,
      fetch: counting,
    });
    expect(probes).toBe(4);
    expect(Object.keys(latencies)).toEqual(["westeurope"]);
    expect(latencies.westeurope).toBeGreaterThanOrEqual(0);
    expect(latencies.westeurope).toBeLessThan(300);
    // Four timeouts of 300 ms for the silent region, in parallel with the other: bounded, not stuck.
    expect(Date.now() - started).toBeLessThan(4 * 300 + 1000);
  });

  it("findMatch given regional origins measures them and sends the answering ones as the ticket's latencies", async () => {
    let sent: Record<string, unknown> | undefined;
    const watching: typeof fetch = (input, init) => {
      if (String(input).endsWith("/api/tickets") && init?.method === "POST") sent = JSON.parse(String(init.body)) as Record<string, unknown>;
      return fetch(input, init);
    };
    const abort = new AbortController();
    let measured: Record<string, number> | undefined;
    const outcome = await findMatch({
      baseUrl: app().baseUrl,
      playerId: "lat-1",
      push: false,
      regionUrls: { westeurope: app().baseUrl, faraway: silentUrl },
      latency: { samples: 3, timeoutMs: 300, gapMs: 5 },
      onLatencies: (l) => (measured = l),
      onTicket: () => abort.abort(),
      signal: abort.signal,
      fetch: watching,
    });
    expect(Object.keys(measured ?? {})).toEqual(["westeurope"]);
    expect(sent?.latencies).toEqual(measured);
    // No region given: the home is the region of lowest latency, the only one that answered.
    expect(outcome.ticket.region).toBe("westeurope");
    expect(outcome.status).toBe("cancelled");
  });
});
