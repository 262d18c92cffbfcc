/** `GET /api/servers?region=`: the server pool (every configured region unless one is named). Function key required. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { appSettings, redisCall } from "./wiring";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { onlyQuery, queryRegions } from "./http/request";
import { serverView } from "./http/serverViews";

export async function listServers(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  onlyQuery(req, ["region"]);
  const regions = queryRegions(req, s);
  const lists = await redisCall(ctx, (st) => Promise.all(regions.map((r) => st.listServers(r))));
  return json(200, { servers: lists.flat().map(serverView) });
}

httpRoute("servers", { route: "servers", authLevel: "function" }, { GET: listServers });
