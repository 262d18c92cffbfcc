/** `GET /api/stats?region=`: queue depth per mode, sessions open/ready, servers free/busy, time to match. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { appSettings } from "../app/deps";
import { httpRoute, json, redisCall } from "../app/http";
import { onlyQuery, queryRegions } from "../app/requestParams";

export async function stats(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  onlyQuery(req, ["region"]);
  const regions = queryRegions(req, s);
  const perRegion = await redisCall(ctx, (st) => Promise.all(regions.map((r) => st.stats(r))));
  return json(200, { at: new Date().toISOString(), modes: s.modes, regions: perRegion });
}

httpRoute("stats", { route: "stats", authLevel: "anonymous" }, { GET: stats });
