/**
 * `POST /api/tickets` {playerId, mode?, region?}: ask for a match (anonymous).
 *
 * Publishes a player-request to the player-requests Event Hub and answers 202 at once with the ticket's
 * secret token. Clients should poll `ticketUri` (GET /api/tickets/{playerId} with
 * `Authorization: Bearer <token>`): it needs no Functions key. `statusQueryGetUri` is the Durable status
 * endpoint of the player's orchestration WITHOUT the system key; on Azure that endpoint requires a key
 * (system or master) that must never be given to clients (it can terminate and purge any instance), so it
 * is there for trusted tools and local development only.
 *
 * A player with a live ticket gets 409 with that ticket's id (not its token: only the owner has that).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { randomUUID } from "node:crypto";
import type { PlayerRequest } from "../domain/types";
import { validateMode, validateRegion } from "../domain/validation";
import { appSettings, publisher } from "../app/deps";
import { dependency, fromValidated, httpError, httpRoute, json, origin, readJson, redisCall } from "../app/http";
import { onlyQuery } from "../app/requestParams";
import { getStatusOrNull, isLive, statusUrlWithoutKey, ticketOf } from "../app/durable";
import { signTicketToken } from "../app/ticketToken";
import { checkSchema } from "../app/schemas";

interface CreateTicketBody {
  playerId: string;
  mode?: string;
  region?: string;
}

export async function createTicket(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const s = appSettings();
  onlyQuery(req, []);
  const body = (await readJson<CreateTicketBody>(req, "createTicket")) as CreateTicketBody;
  const playerId = body.playerId;
  const mode = fromValidated(validateMode(body.mode ?? s.defaultMode, s.modes));
  const region = fromValidated(validateRegion(body.region ?? s.defaultRegion, s.regions));

  const client = df.getClient(ctx);
  // The orchestration (instanceId = playerId) covers every region and requests still in the hub; the
  // store covers a waiting player whose orchestration was lost.
  const [status, current] = await Promise.all([
    dependency("the Durable extension", getStatusOrNull(client, playerId), ctx),
    redisCall(ctx, (st) => st.getPlayer(region, playerId)),
  ]);
  const liveTicket = isLive(status) ? ticketOf(status) : current?.state === "waiting" ? current.ticketId : undefined;
  if (liveTicket) {
    throw httpError(409, "ticket_exists", `player ${playerId} already has a live ticket; use its token to read or cancel it`, {
      ticket: { playerId, ticketId: liveTicket, status: "searching" },
    });
  }

  const ticketId = randomUUID();
  const message: PlayerRequest = { ticketId, playerId, mode, region, requestedAt: new Date().toISOString() };
  const drift = checkSchema("playerRequest", message, "the player request");
  if (drift) throw new Error(`createTicket built a message its own schema refuses: ${drift.detail}`);
  // Partition key = playerId: one player's requests stay in order on one partition.
  await dependency("Event Hubs", publisher().send(s.playerRequestsHub, [{ body: message, partitionKey: playerId }]), ctx);

  const token = signTicketToken({ ticketId, playerId, region, mode, iat: Math.floor(Date.now() / 1000) }, s.ticketSigningKey);
  const ticketUri = `${origin(req)}/api/tickets/${encodeURIComponent(playerId)}`;
  ctx.log(`ticket ${ticketId} for ${playerId} (${mode}, ${region}) accepted`);
  return json(
    202,
    { ticketId, playerId, mode, region, token, ticketUri, statusQueryGetUri: statusUrlWithoutKey(client, playerId) },
    { Location: ticketUri, "Retry-After": "1" },
  );
}

httpRoute("tickets", { route: "tickets", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { POST: createTicket });
