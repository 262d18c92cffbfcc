/**
 * Server changes pushed end to end (DESIGN.md section 6 "Push", "Game servers are global"): the real app in
 * the local runtime, which plays Azure Web PubSub, and the real @azure/web-pubsub-client for each player.
 * - a server that confirmed its session and then died: each player receives `serverLost`;
 * - a server that died before confirming: the group is requeued, the next free server takes it, and each
 *   player receives `serverChanged` with the new server (same session).
 * Servers here never heartbeat after registering: a lease of 3 s and a claim window of 2 s let them die fast.
 * Each test has its own region, so one test's dying servers never take the other's sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebPubSubClient } from "@azure/web-pubsub-client";
import { api, matchSettings, until, useApp, type Api } from "../e2e/harness";
import type { CreatedTicket } from "../../client/index";
import { dataOf, listen } from "./support/listen";

const app = useApp({
  ...matchSettings({ duel: 2 }, ["eu-lost", "eu-change"], 30),
  ASSIGN_SCHEDULE: "*/1 * * * * *",
  SERVER_LEASE_SECONDS: "3",
  SERVER_CLAIM_SECONDS: "2",
  DEFAULT_REGION: "eu-lost",
});
let http: Api;
let key: Record<string, string>;
const clients: WebPubSubClient[] = [];

beforeAll(() => {
  http = api(app());
  key = { "x-functions-key": app().keys.functionKeys[0]! };
});
afterAll(() => {
  for (const c of clients) c.stop();
});

async function addServer(serverId: string, address: string, region: string): Promise<void> {
  const r = await http.call("PUT", `/api/servers/${serverId}`, { address, region }, key);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
}

async function ticket(playerId: string, region: string): Promise<CreatedTicket> {
  const r = await http.call("POST", "/api/tickets", { playerId, mode: "duel", region });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json as CreatedTicket;
}

describe("server changes by push", () => {
  it("a confirmed server that dies: both players receive serverLost, as their tickets read", async () => {
    await addServer("gs-lost", "10.1.0.1:7777", "eu-lost");
    const a = await ticket("lost-a", "eu-lost");
    const b = await ticket("lost-b", "eu-lost");
    const [la, lb] = [await listen(http, a, clients), await listen(http, b, clients)];
    // The match may have been pushed before these connections existed: the ticket says it either way.
    await until(async () => (await http.call("GET", a.ticketUri, undefined, { Authorization: `Bearer ${a.token}` })).json?.status === "matched", "the match");
    const ack = await http.call("POST", "/api/servers/gs-lost/ack", undefined, key);
    expect(ack.status, JSON.stringify(ack.json)).toBe(200);
    // No heartbeat any more: the lease runs out, the sweeper retires the server and the game is over.
    for (const [l, t] of [
      [la, a],
      [lb, b],
    ] as const) {
      await until(() => l.messages.some((m) => dataOf(m).type === "serverLost"), `${t.playerId}'s serverLost push`, 15_000, 20);
      const lost = l.messages.map(dataOf).find((d) => d.type === "serverLost")!;
      expect(lost.ticket).toMatchObject({ playerId: t.playerId, ticketId: t.ticketId, status: "serverLost", serverId: "gs-lost", server: "10.1.0.1:7777" });
      const status = await http.call("GET", t.ticketUri, undefined, { Authorization: `Bearer ${t.token}` });
      expect(status.json).toMatchObject({ status: "serverLost", sessionId: lost.ticket.sessionId });
    }
  });

  it("a server that dies before confirming: the group gets the next server and both players receive serverChanged", async () => {
    await addServer("gs-first", "10.2.0.1:7777", "eu-change");
    const a = await ticket("change-a", "eu-change");
    const la = await listen(http, a, clients);
    const b = await ticket("change-b", "eu-change");
    const lb = await listen(http, b, clients);
    await until(() => la.messages.some((m) => dataOf(m).type === "matched"), "change-a's matched push", 15_000, 20);
    const first = la.messages.map(dataOf).find((d) => d.type === "matched")!;
    expect(first.ticket).toMatchObject({ serverId: "gs-first", server: "10.2.0.1:7777" });
    // A second server joins; gs-first never confirms (no ack, no heartbeat): its claim window passes.
    await addServer("gs-second", "10.2.0.2:7777", "eu-change");
    for (const [l, t] of [
      [la, a],
      [lb, b],
    ] as const) {
      await until(() => l.messages.some((m) => dataOf(m).type === "serverChanged"), `${t.playerId}'s serverChanged push`, 15_000, 20);
      const changed = l.messages.map(dataOf).find((d) => d.type === "serverChanged")!;
      expect(changed.ticket).toMatchObject({
        playerId: t.playerId,
        ticketId: t.ticketId,
        status: "matched",
        serverId: "gs-second",
        server: "10.2.0.2:7777",
        sessionId: first.ticket.sessionId,
      });
      const status = await http.call("GET", t.ticketUri, undefined, { Authorization: `Bearer ${t.token}` });
      expect(status.json).toMatchObject({ status: "matched", serverId: "gs-second", sessionId: first.ticket.sessionId });
    }
    // Confirm, so that the new server keeps the game while the test ends.
    expect((await http.call("POST", "/api/servers/gs-second/ack", undefined, key)).status).toBe(200);
  });
});
