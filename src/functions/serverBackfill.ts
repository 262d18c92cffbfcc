/**
 * `POST /api/servers/{serverId}/backfill[?region=]` {sessionId, slots} → requestBackfill (src/usecases/backfill):
 * the running game asks for players (slots: a number, or the free slots per team); 201 with the request and
 * the players who joined at once. One request per session, a new one replaces the old; a retry with the same
 * `requestId` is answered 200 as before and changes nothing.
 * `DELETE /api/servers/{serverId}/backfill[?region=&sessionId=]` → cancelBackfill: no more players wanted.
 * Function key required (game servers are trusted backends).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { cancelBackfill, requestBackfill } from "../usecases/backfill";
import { onlyQuery, optionalQueryRegion, readJson, routeId } from "./http/request";
import { httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { appSettings, portsFor } from "./wiring";

interface BackfillBody {
  sessionId: string;
  slots: number | number[];
  requestId?: string;
}

/** `?sessionId=` when given; the same pattern the body's sessionId has (the store checks it again). */
function optionalQuerySession(req: HttpRequest): string | undefined {
  const sid = req.query.get("sessionId");
  if (sid === null || sid === "") return undefined;
  if (!/^[a-z0-9][a-z0-9-]{0,31}\.[0-9]{1,15}$/.test(sid)) throw httpError(400, "invalid_sessionId", "sessionId must look like <region>.<number>");
  return sid;
}

export async function postBackfill(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region"]);
  const region = optionalQueryRegion(req, appSettings());
  const body = (await readJson<BackfillBody>(req, "requestBackfill")) as BackfillBody;
  const r = await requestBackfill(portsFor(ctx), {
    serverId,
    sessionId: body.sessionId,
    slots: body.slots,
    ...(body.requestId !== undefined ? { requestId: body.requestId } : {}),
    ...(region ? { region } : {}),
  });
  // A retry of the last request (same requestId) changed nothing: 200 with the answer it had.
  return json(r.repeated ? 200 : 201, {
    backfillId: r.backfillId,
    sessionId: r.sessionId,
    region: r.region,
    slots: r.slots,
    requestedAt: new Date(r.requestedAtMs).toISOString(),
    ...(r.replacedBackfillId ? { replacedBackfillId: r.replacedBackfillId } : {}),
    ...(r.repeated ? { repeated: true } : {}),
    joined: r.joined,
  });
}

export async function deleteBackfill(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const serverId = routeId(req, "serverId");
  onlyQuery(req, ["region", "sessionId"]);
  const region = optionalQueryRegion(req, appSettings());
  const sessionId = optionalQuerySession(req);
  const r = await cancelBackfill(portsFor(ctx), { serverId, ...(region ? { region } : {}), ...(sessionId ? { sessionId } : {}) });
  return json(200, { ...r, cancelled: true });
}

httpRoute("serverBackfill", { route: "servers/{serverId}/backfill", authLevel: "function" }, { POST: postBackfill, DELETE: deleteBackfill });
