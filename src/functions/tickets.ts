/**
 * `POST /api/tickets` {playerId, mode?, region?}: ask for a match (anonymous) → createTicket (src/usecases).
 *
 * Answers 202 at once with the ticket's secret token. Clients poll `ticketUri` (GET /api/tickets/{playerId}
 * with `Authorization: Bearer <token>`) or `statusQueryGetUri` (the Durable status contract, served by
 * ticketStatus.ts with `?token=`): neither needs a Functions key. A player with a live ticket gets 409 with
 * that ticket's id (not its token: only the owner has that).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { createTicket as create, type CreateTicketRequest } from "../usecases/tickets";
import { onlyQuery, origin, readJson } from "./http/request";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";
import { authorizePlayer } from "./http/ticketAuth";
import { appSettings, portsFor } from "./wiring";
import { clientAddressOf, limitTicketCalls } from "../usecases/abuseLimits";
import { pushUrlForNewTicket } from "../usecases/negotiate";
import { playerPush } from "../messaging/webPubSub";

export async function createTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  onlyQuery(req, []);
  const body = (await readJson<CreateTicketRequest>(req, "createTicket")) as CreateTicketRequest;
  // With PLAYER_AUTH=jwt only the player itself may ask for its ticket (nobody can squat another's id).
  await authorizePlayer(req, appSettings(), body.playerId);
  const base = origin(req);
  const ports = portsFor(ctx, df.getClient(ctx));
  await limitTicketCalls(ports, { playerId: body.playerId, clientAddress: clientAddressOf(req.headers.get("x-forwarded-for")) }, "create");
  const ticket = await create(ports, body);
  const ticketUri = `${base}/api/tickets/${encodeURIComponent(ticket.playerId)}`;
  const statusQueryGetUri = `${ticketUri}/status?token=${encodeURIComponent(ticket.token)}`;
  // The push URL comes with the ticket: the client connects at once, without a negotiate round trip.
  const pushUrl = await pushUrlForNewTicket(playerPush(), ticket.playerId);
  return json(202, { ...ticket, ticketUri, statusQueryGetUri, ...(pushUrl ? { pushUrl } : {}) }, { Location: ticketUri, "Retry-After": "1" });
}

httpRoute("tickets", { route: "tickets", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { POST: createTicket });
