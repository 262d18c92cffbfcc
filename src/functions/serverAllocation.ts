/** `GET /api/servers/{serverId}/allocation[?region=]` → serverAllocation: the server (where it lives) and, while allocated, its session and players. Function key required. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { serverAllocation } from "../usecases/gameServers";
import { onlyQuery, optionalQueryRegion, routeId } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { allocationView } from "./http/serverViews";
import { appSettings, portsFor } from "./wiring";

export async function getAllocation(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = optionalQueryRegion(req, appSettings());
  return json(200, allocationView(await serverAllocation(portsFor(ctx), { serverId, ...(region ? { region } : {}) })));
}

httpRoute("serverAllocation", { route: "servers/{serverId}/allocation", authLevel: "function" }, { GET: getAllocation });
