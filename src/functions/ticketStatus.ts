/**
 * `GET /api/tickets/{playerId}/status` (anonymous, ticket token required) → readTicketInstance
 * (src/usecases): the Durable status endpoint for the player's orchestration, authorized by the ticket's
 * token instead of the system key (which can terminate and purge any instance, so no client may hold it).
 * It answers as the extension does: 404 unknown; 202 with Location and Retry-After while the instance
 * runs (Pending before the intake started it); 200 once it completed; the same body
 * `{name, instanceId, runtimeStatus, input, customStatus, output, createdTime, lastUpdatedTime}`.
 * This is the `statusQueryGetUri` POST /api/tickets hands out (with `?token=`, so it works as is).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { readTicketInstance } from "../usecases/tickets";
import { httpError, json } from "./http/respond";
import { httpRoute } from "./http/route";
import { authorizeTicket } from "./http/ticketAuth";
import { appSettings, portsFor } from "./wiring";

/** Seconds a poller waits between reads of a running instance. */
export const STATUS_RETRY_AFTER_SECONDS = 2;

export async function ticketStatus(req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> {
  const { claims } = await authorizeTicket(req, appSettings());
  const instance = await readTicketInstance(portsFor(ctx, df.getClient(ctx)), claims);
  if (!instance.found) throw httpError(404, "ticket_not_found", "no orchestration runs or ran this ticket (unknown, replaced by a newer ticket, or purged)");
  if (instance.running) return json(202, instance.record, { Location: req.url, "Retry-After": String(STATUS_RETRY_AFTER_SECONDS) });
  return json(200, instance.record);
}

httpRoute("ticketStatus", { route: "tickets/{playerId}/status", authLevel: "anonymous", extraInputs: [df.input.durableClient()] }, { GET: ticketStatus });
