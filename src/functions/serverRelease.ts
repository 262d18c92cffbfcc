/**
 * `POST /api/servers/{serverId}/release?region=` {sessionId?}: the game ended, the server goes back to
 * the pool. With sessionId, only if the server still runs that session (a late, repeated release cannot
 * end the server's next game). Function key required.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { appSettings, redisCall } from "./wiring";
import { onlyQuery, queryRegion, readJson, routeId } from "./http/request";
import { httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";

export async function releaseServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = queryRegion(req, s);
  const body = await readJson<{ sessionId?: string }>(req, "releaseServer", { optional: true });
  const result = await redisCall(ctx, (st) => st.releaseServer({ serverId, region, ...(body?.sessionId ? { sessionId: body.sessionId } : {}) }));
  switch (result.outcome) {
    case "notFound":
      throw httpError(404, "server_not_found", `no server ${serverId} in ${region}`);
    case "sessionMismatch":
      throw httpError(409, "session_mismatch", `server ${serverId} does not run session ${body?.sessionId ?? ""}`, { server: serverView(result.server) });
    case "released":
      return json(200, { outcome: "released", endedSessionId: result.endedSessionId, server: serverView(result.server) });
    default:
      return json(200, { outcome: "alreadyAvailable", server: serverView(result.server) });
  }
}

httpRoute("serverRelease", { route: "servers/{serverId}/release", authLevel: "function" }, { POST: releaseServer });
