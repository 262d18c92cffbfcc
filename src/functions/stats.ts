/** `GET /api/stats?region=` → readStats (src/usecases): queue depth per mode, sessions open/ready, servers free/busy, time to match. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { readStats, STATS_CACHE_MS } from "../usecases/stats";
import { onlyQuery, queryRegions } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { appSettings, portsFor } from "./wiring";

export async function stats(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  onlyQuery(req, ["region"]);
  // Anonymous, so cached (usecases/stats.ts: one Redis read per region per second per instance); proxies and
  // browsers may reuse the answer for as long.
  return json(200, await readStats(portsFor(ctx), queryRegions(req, appSettings())), { "Cache-Control": `public, max-age=${STATS_CACHE_MS / 1000}` });
}

httpRoute("stats", { route: "stats", authLevel: "anonymous" }, { GET: stats });
