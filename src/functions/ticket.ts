/**
 * `GET /api/tickets/{playerId}` and `DELETE /api/tickets/{playerId}` (anonymous; the ticket token, and with
 * PLAYER_AUTH=jwt the player's JWT: see http/ticketAuth.ts) → readTicket / cancelTicket (src/usecases).
 * Cancelling counts against the abuse limits (src/usecases/abuseLimits.ts).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { clientAddressOf, limitTicketCalls } from "../usecases/abuseLimits";
import { cancelTicket as cancel, readTicket } from "../usecases/tickets";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { authorizeTicket } from "./http/ticketAuth";
import { appSettings, portsFor } from "./wiring";

export async function getTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { claims } = await authorizeTicket(req, appSettings());
  return json(200, await readTicket(portsFor(ctx, df.getClient(ctx)), claims));
}

export async function cancelTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { playerId, claims } = await authorizeTicket(req, appSettings());
  const ports = portsFor(ctx, df.getClient(ctx));
  await limitTicketCalls(ports, { playerId, clientAddress: clientAddressOf(req.headers.get("x-forwarded-for")) }, "cancel");
  return json(200, await cancel(ports, claims));
}

httpRoute("ticket", { route: "tickets/{playerId}", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { GET: getTicket, DELETE: cancelTicket });
