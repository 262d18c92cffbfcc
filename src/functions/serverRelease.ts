/**
 * `POST /api/servers/{serverId}/release[?region=]` {sessionId?} → releaseServer (src/usecases/gameServers):
 * the game ended, the server (found where it lives) goes back to the pool. With sessionId, only if the server
 * still runs that session (a late, repeated release cannot end the server's next game). Function key required.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { releaseServer } from "../usecases/gameServers";
import { onlyQuery, optionalQueryRegion, readJson, routeId } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";
import { appSettings, portsFor } from "./wiring";

export async function postRelease(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = optionalQueryRegion(req, appSettings());
  const body = await readJson<{ sessionId?: string }>(req, "releaseServer", { optional: true });
  const r = await releaseServer(portsFor(ctx), { serverId, ...(region ? { region } : {}), ...(body?.sessionId ? { sessionId: body.sessionId } : {}) });
  return json(200, { outcome: r.outcome, ...(r.outcome === "released" ? { endedSessionId: r.endedSessionId } : {}), server: serverView(r.server) });
}

httpRoute("serverRelease", { route: "servers/{serverId}/release", authLevel: "function" }, { POST: postRelease });
