/**
 * `PUT /api/servers/{serverId}` {address, region?}: register or heartbeat (201 registered, 200 heartbeat).
 * `DELETE /api/servers/{serverId}?region=`: leave the pool (its session, if any, ends).
 * Function key required (game servers are trusted backends, not players).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { validateAddress, validateRegion } from "../domain/validation";
import { appSettings, redisCall } from "./wiring";
import { onlyQuery, queryRegion, readJson, routeId } from "./http/request";
import { fromValidated, httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";

interface RegisterBody {
  address: string;
  region?: string;
}

export async function registerServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const body = (await readJson<RegisterBody>(req, "registerServer")) as RegisterBody;
  const address = fromValidated(validateAddress(body.address));
  const region = body.region !== undefined ? fromValidated(validateRegion(body.region, s.regions)) : queryRegion(req, s);
  const result = await redisCall(ctx, (st) => st.registerServer({ serverId, region, address }));
  if (result.outcome === "rejected") throw httpError(409, result.error, result.detail);
  return json(result.outcome === "registered" ? 201 : 200, { ...serverView(result.server), outcome: result.outcome, leaseSeconds: s.serverLeaseSeconds });
}

export async function deregisterServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = queryRegion(req, s);
  const result = await redisCall(ctx, (st) => st.deregisterServer({ serverId, region }));
  if (result.outcome === "notFound") throw httpError(404, "server_not_found", `no server ${serverId} in ${region}`);
  return json(200, { serverId, region, removed: true, ...(result.endedSessionId ? { endedSessionId: result.endedSessionId } : {}) });
}

httpRoute("server", { route: "servers/{serverId}", authLevel: "function" }, { PUT: registerServer, DELETE: deregisterServer });
