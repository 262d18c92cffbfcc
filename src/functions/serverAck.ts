/**
 * `POST /api/servers/{serverId}/ack[?region=]` {sessionId?} → acknowledgeServer (src/usecases/gameServers):
 * the server confirms the session it was claimed for, within SERVER_CLAIM_SECONDS (its next heartbeat does
 * the same). Unconfirmed, the claim lapses and the group is requeued; confirmed, the server's death ends the
 * game (serverLost). Function key required.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { acknowledgeServer } from "../usecases/gameServers";
import { onlyQuery, optionalQueryRegion, readJson, routeId } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { serverView } from "./http/serverViews";
import { appSettings, portsFor } from "./wiring";

export async function postAck(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = optionalQueryRegion(req, appSettings());
  const body = await readJson<{ sessionId?: string }>(req, "ackServer", { optional: true });
  const r = await acknowledgeServer(portsFor(ctx), { serverId, ...(region ? { region } : {}), ...(body?.sessionId ? { sessionId: body.sessionId } : {}) });
  return json(200, { outcome: r.outcome, sessionId: r.sessionId, server: serverView(r.server) });
}

httpRoute("serverAck", { route: "servers/{serverId}/ack", authLevel: "function" }, { POST: postAck });
