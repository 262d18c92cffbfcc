/** `GET /api/servers?region=` → listServers: the server pool (every configured region unless one is named). Function key required. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { listServers } from "../usecases/gameServers";
import { onlyQuery, queryRegions } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";
import { appSettings, portsFor } from "./wiring";

export async function getServers(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  onlyQuery(req, ["region"]);
  return json(200, { servers: (await listServers(portsFor(ctx), queryRegions(req, appSettings()))).map(serverView) });
}

httpRoute("servers", { route: "servers", authLevel: "function" }, { GET: getServers });
