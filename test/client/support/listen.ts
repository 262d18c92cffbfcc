/** A player's raw push connection for tests: negotiate with the ticket token, then the real @azure/web-pubsub-client. */
import { expect } from "vitest";
import { WebPubSubClient, type OnServerDataMessageArgs } from "@azure/web-pubsub-client";
import { until, type Api } from "../../e2e/harness";
import type { CreatedTicket } from "../../../client/index";

export type PushData = { type: string; ticket: Record<string, unknown>; assignedAt?: string };
export const dataOf = (m: OnServerDataMessageArgs["message"]) => m.data as PushData;

export interface Listener {
  client: WebPubSubClient;
  messages: OnServerDataMessageArgs["message"][];
  connectionId: string;
  connected: { connectionId: string; userId?: string }[];
}

/** Negotiates and starts the client; resolves once connected. Stop the clients in `clients` after the file. */
export async function listen(http: Api, t: CreatedTicket, clients: WebPubSubClient[]): Promise<Listener> {
  const r = await http.call("GET", `/api/tickets/${t.playerId}/negotiate`, undefined, { Authorization: `Bearer ${t.token}` });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  const url = (r.json as { url: string }).url;
  expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/client/hubs/matchmaking\\?access_token=`));
  const client = new WebPubSubClient(url);
  clients.push(client);
  const messages: OnServerDataMessageArgs["message"][] = [];
  const connected: { connectionId: string; userId?: string }[] = [];
  client.on("server-message", (e) => messages.push(e.message));
  client.on("connected", (e) => connected.push(e));
  await client.start();
  await until(() => connected.length > 0, `${t.playerId} connected`, 5_000, 10);
  expect(connected[0]!.userId).toBe(t.playerId);
  return { client, messages, connectionId: connected[0]!.connectionId, connected };
}
