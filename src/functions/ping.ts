/**
 * `GET /api/ping` (anonymous): the latency probe of a regional deployment. Game clients time a few of these
 * per region (client/latency.ts) and send the medians as a ticket's `latencies`; Functions serve no UDP. It
 * reads no store and answers no body (204, never cached), so probing costs the matchmaker nothing but the
 * request itself and cannot load Redis.
 */
import type { HttpResponseInit } from "@azure/functions";
import { httpRoute } from "./http/route";

export async function ping(): Promise<HttpResponseInit> {
  return { status: 204, headers: { "Cache-Control": "no-store" } };
}

httpRoute("ping", { route: "ping", authLevel: "anonymous" }, { GET: ping });
