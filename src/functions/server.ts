/**
 * `PUT /api/servers/{serverId}` {address, region?} → registerServer (src/usecases/gameServers): 201 registered,
 * 200 heartbeat. Without a region a known server is found where it lives; a new one goes to DEFAULT_REGION.
 * `DELETE /api/servers/{serverId}[?region=]` → deregisterServer: leave the pool (its session, if any, ends).
 * Function key required (game servers are trusted backends, not players).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { validateAddress, validateRegion } from "../domain/validation";
import { deregisterServer, registerServer } from "../usecases/gameServers";
import { onlyQuery, optionalQueryRegion, readJson, routeId } from "./http/request";
import { fromValidated, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";
import { appSettings, portsFor } from "./wiring";

interface RegisterBody {
  address: string;
  region?: string;
}

export async function putServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const body = (await readJson<RegisterBody>(req, "registerServer")) as RegisterBody;
  const address = fromValidated(validateAddress(body.address));
  const region = body.region !== undefined ? fromValidated(validateRegion(body.region, s.regions)) : optionalQueryRegion(req, s);
  const r = await registerServer(portsFor(ctx), { serverId, address, ...(region ? { region } : {}) });
  return json(r.outcome === "registered" ? 201 : 200, {
    ...serverView(r.server),
    outcome: r.outcome,
    leaseSeconds: r.leaseSeconds,
    claimSeconds: r.claimSeconds,
    ...(r.outcome === "heartbeat" && r.confirmedSessionId ? { confirmedSessionId: r.confirmedSessionId } : {}),
  });
}

export async function deleteServer(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = optionalQueryRegion(req, appSettings());
  const r = await deregisterServer(portsFor(ctx), { serverId, ...(region ? { region } : {}) });
  return json(200, { serverId, region: r.region, removed: true, ...(r.endedSessionId ? { endedSessionId: r.endedSessionId } : {}) });
}

httpRoute("server", { route: "servers/{serverId}", authLevel: "function" }, { PUT: putServer, DELETE: deleteServer });
