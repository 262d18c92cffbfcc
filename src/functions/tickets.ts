/**
 * `POST /api/tickets` {playerId, mode?, region?, skill?, party?}: ask for a match (anonymous) → createTicket
 * (src/usecases). `party` lists the OTHER members; the answer's `members` gives each its own token and links.
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
import { appSettings, durableClientOf, portsFor } from "./wiring";
import { clientAddressOf, limitTicketCalls } from "../usecases/abuseLimits";
import { pushUrlForNewTicket } from "../usecases/negotiate";
import { playerPush } from "../messaging/webPubSub";

export async function createTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  onlyQuery(req, []);
  const body = (await readJson<CreateTicketRequest>(req, "createTicket")) as CreateTicketRequest;
  // With PLAYER_AUTH=jwt only the player itself may ask for its ticket (nobody can squat another's id).
  await authorizePlayer(req, appSettings(), body.playerId);
  const base = origin(req);
  const ports = portsFor(ctx, durableClientOf(ctx));
  await limitTicketCalls(ports, { playerId: body.playerId, clientAddress: clientAddressOf(req.headers.get("x-forwarded-for")) }, "create");
  const ticket = await create(ports, body);
  // Each member's own links, built from its own token, and its push URL (the client connects at once,
  // without a negotiate round trip); the leader's are also the answer's top level.
  const push = playerPush();
  const members = await Promise.all(
    ticket.members.map(async (m) => {
      const ticketUri = `${base}/api/tickets/${encodeURIComponent(m.playerId)}`;
      const pushUrl = await pushUrlForNewTicket(push, m.playerId);
      return { ...m, ticketUri, statusQueryGetUri: `${ticketUri}/status?token=${encodeURIComponent(m.token)}`, ...(pushUrl ? { pushUrl } : {}) };
    }),
  );
  const { ticketUri, statusQueryGetUri, pushUrl } = members[0]!;
  return json(202, { ...ticket, ticketUri, statusQueryGetUri, ...(pushUrl ? { pushUrl } : {}), members }, { Location: ticketUri, "Retry-After": "1" });
}

httpRoute("tickets", { route: "tickets", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { POST: createTicket });
