/**
 * `GET /api/tickets/{playerId}` and `DELETE /api/tickets/{playerId}` (anonymous, ticket token required:
 * `Authorization: Bearer <token>` or `?token=`) → readTicket / cancelTicket (src/usecases).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { cancelTicket as cancel, readTicket } from "../usecases/tickets";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { authorizeTicket } from "./http/ticketAuth";
import { appSettings, portsFor } from "./wiring";

export async function getTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { claims } = authorizeTicket(req, appSettings().identity.ticketKeys);
  return json(200, await readTicket(portsFor(ctx, df.getClient(ctx)), claims));
}

export async function cancelTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { claims } = authorizeTicket(req, appSettings().identity.ticketKeys);
  return json(200, await cancel(portsFor(ctx, df.getClient(ctx)), claims));
}

httpRoute("ticket", { route: "tickets/{playerId}", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { GET: getTicket, DELETE: cancelTicket });
