/**
 * `POST /api/tickets/{playerId}/accept` (anonymous; with PLAYER_AUTH=jwt the member's own JWT in
 * Authorization and its ticket token in X-Ticket-Token) → acceptPartyTicket (src/usecases): a party member
 * accepts the ticket its leader asked for; the party queues once every member has (issue 12).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { acceptPartyTicket } from "../usecases/tickets";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { authorizeTicket } from "./http/ticketAuth";
import { appSettings, portsFor } from "./wiring";

export async function acceptTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { claims } = await authorizeTicket(req, appSettings());
  return json(202, await acceptPartyTicket(portsFor(ctx, df.getClient(ctx)), claims));
}

httpRoute("ticketAccept", { route: "tickets/{playerId}/accept", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { POST: acceptTicket });
