/** `GET /api/servers/{serverId}/allocation?region=`: the server and, while allocated, its session and players. Function key required. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { appSettings, redisCall } from "./wiring";
import { httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { onlyQuery, queryRegion, routeId } from "./http/request";
import { allocationView } from "./http/serverViews";

export async function serverAllocation(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = queryRegion(req, s);
  const allocation = await redisCall(ctx, (st) => st.getServer(region, serverId));
  if (!allocation) throw httpError(404, "server_not_found", `no server ${serverId} in ${region}`);
  return json(200, allocationView(allocation));
}

httpRoute("serverAllocation", { route: "servers/{serverId}/allocation", authLevel: "function" }, { GET: serverAllocation });
