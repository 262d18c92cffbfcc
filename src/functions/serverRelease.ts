/**
 * `POST /api/servers/{serverId}/release?region=` {sessionId?}: the game ended, the server goes back to
 * the pool. With sessionId, only if the server still runs that session (a late, repeated release cannot
 * end the server's next game). Function key required.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { appSettings, store } from "../app/deps";
import { dependency, httpError, json, readJson, route, ROUTE_METHODS } from "../app/http";
import { onlyQuery, queryRegion, routeId } from "../app/requestParams";
import { serverView } from "../app/views";

export async function releaseServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = queryRegion(req, s);
  const body = await readJson<{ sessionId?: string }>(req, "releaseServer", { optional: true });
  const st = await dependency("Redis", store(), ctx);
  const result = await dependency("Redis", st.releaseServer({ serverId, region, ...(body?.sessionId ? { sessionId: body.sessionId } : {}) }), ctx);
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

app.http("serverRelease", {
  route: "servers/{serverId}/release",
  methods: [...ROUTE_METHODS],
  authLevel: "function",
  handler: route({ POST: releaseServer }),
});
