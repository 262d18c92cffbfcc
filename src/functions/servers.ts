/** `GET /api/servers?region=`: the server pool (every configured region unless one is named). Function key required. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { appSettings, store } from "../app/deps";
import { dependency, json, route, ROUTE_METHODS } from "../app/http";
import { onlyQuery, queryRegion } from "../app/requestParams";
import { serverView } from "../app/views";

export async function listServers(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  onlyQuery(req, ["region"]);
  const regions = req.query.get("region") ? [queryRegion(req, s)] : s.regions;
  const st = await dependency("Redis", store(), ctx);
  const lists = await dependency("Redis", Promise.all(regions.map((r) => st.listServers(r))), ctx);
  return json(200, { servers: lists.flat().map(serverView) });
}

app.http("servers", {
  route: "servers",
  methods: [...ROUTE_METHODS],
  authLevel: "function",
  handler: route({ GET: listServers }),
});
