/** `GET /api/servers/{serverId}/allocation?region=`: the server and, while allocated, its session and players. Function key required. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { appSettings, store } from "../app/deps";
import { dependency, httpError, json, route, ROUTE_METHODS } from "../app/http";
import { onlyQuery, queryRegion, routeId } from "../app/requestParams";
import { allocationView } from "../app/views";

export async function serverAllocation(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = queryRegion(req, s);
  const st = await dependency("Redis", store(), ctx);
  const allocation = await dependency("Redis", st.getServer(region, serverId), ctx);
  if (!allocation) throw httpError(404, "server_not_found", `no server ${serverId} in ${region}`);
  return json(200, allocationView(allocation));
}

app.http("serverAllocation", {
  route: "servers/{serverId}/allocation",
  methods: [...ROUTE_METHODS],
  authLevel: "function",
  handler: route({ GET: serverAllocation }),
});
