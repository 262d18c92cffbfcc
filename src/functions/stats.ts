/** `GET /api/stats?region=`: queue depth per mode, sessions open/ready, servers free/busy, time to match. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { appSettings, store } from "../app/deps";
import { dependency, json, route, ROUTE_METHODS } from "../app/http";
import { onlyQuery, queryRegion } from "../app/requestParams";

export async function stats(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  onlyQuery(req, ["region"]);
  const regions = req.query.get("region") ? [queryRegion(req, s)] : s.regions;
  const st = await dependency("Redis", store(), ctx);
  const perRegion = await dependency("Redis", Promise.all(regions.map((r) => st.stats(r))), ctx);
  return json(200, { at: new Date().toISOString(), modes: s.modes, regions: perRegion });
}

app.http("stats", {
  route: "stats",
  methods: [...ROUTE_METHODS],
  authLevel: "anonymous",
  handler: route({ GET: stats }),
});
