/**
 * Push end to end: the real app in the local runtime, which plays Azure Web PubSub by default (as under
 * `npm start`), and the real @azure/web-pubsub-client (directly, and inside the client library's findMatch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { api, matchSettings, until, useApp, type Api } from "../e2e/harness";
import { findMatch, watchTicket, type CreatedTicket } from "../../client/index";
import type { LocalWebPubSub } from "../../local-runtime/webpubsub/service";
import { dataOf, listen as listenAs } from "./support/listen";

const REGION = "westeurope";
let wps: LocalWebPubSub;
const app = useApp({ ...matchSettings({ duel: 2, trio: 3 }, [REGION], 5), ASSIGN_SCHEDULE: "*/1 * * * * *" });
let http: Api;
let key: Record<string, string>;
const clients: WebPubSubClient[] = [];
let serverCount = 0;

beforeAll(() => {
  wps = app().push.service!;
  http = api(app());
  key = { "x-functions-key": app().keys.functionKeys[0]! };
});
afterAll(() => {
  for (const c of clients) c.stop();
});

/** A fresh server in the pool, so each match finds one. */
async function addServer(): Promise<string> {
  const address = `10.0.0.${++serverCount}:7777`;
  const r = await http.call("PUT", `/api/servers/gs-${serverCount}`, { address, region: REGION }, key);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return address;
}

async function ticket(playerId: string, mode = "duel"): Promise<CreatedTicket> {
  const r = await http.call("POST", "/api/tickets", { playerId, mode, region: REGION });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json as CreatedTicket;
}

const listen = (t: CreatedTicket) => listenAs(http, t, clients);

describe("push with the real @azure/web-pubsub-client", () => {
  it("the local runtime plays the service and points the app at it", () => {
    expect(wps).toBeDefined();
    expect(process.env.WEB_PUBSUB_CONNECTION).toBe(wps.connectionString);
    expect(app().push.describe).toMatch(/^push: local Web PubSub at http:\/\/127\.0\.0\.1:\d+/);
  });

  it("a player connected before the match receives `matched` with the server address, sent in process (no REST call over HTTP)", async () => {
    const overHttp = wps.counters.restCallsOverHttp;
    const restCalls = wps.counters.restCalls;
    const address = await addServer();
    const a = await ticket("early-a");
    const listener = await listen(a);
    await ticket("early-b"); // fills the duel
    await until(() => listener.messages.length > 0, "the matched push", 15_000, 10);
    expect(listener.messages).toHaveLength(1);
    expect(dataOf(listener.messages[0]!)).toMatchObject({
      type: "matched",
      ticket: { playerId: "early-a", ticketId: a.ticketId, status: "matched", server: address, region: REGION, mode: "duel" },
    });
    // The push says what the status endpoint says.
    const status = await http.call("GET", a.ticketUri, undefined, { Authorization: `Bearer ${a.token}` });
    expect(status.json).toMatchObject({ status: "matched", server: address, sessionId: dataOf(listener.messages[0]!).ticket.sessionId });
    // The app's real SDK reached the local service through the runtime's in-process transport (inProcessClient.ts).
    expect(wps.counters.restCalls - restCalls).toBeGreaterThanOrEqual(2);
    expect(wps.counters.restCallsOverHttp).toBe(overHttp);
  });

  it("the ticket answer carries the push URL (the same as negotiate's), so a client connects without a negotiate round trip", async () => {
    const address = await addServer();
    const a = await ticket("url-a");
    expect(a.pushUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/client\/hubs\/matchmaking\?access_token=/);
    const client = new WebPubSubClient(a.pushUrl!);
    clients.push(client);
    const messages: unknown[] = [];
    const users: (string | undefined)[] = [];
    client.on("server-message", (e) => messages.push(e.message.data));
    client.on("connected", (e) => users.push(e.userId));
    await client.start();
    await until(() => users.length > 0, "connected", 5_000, 10);
    expect(users[0]).toBe("url-a");
    await ticket("url-b");
    await until(() => messages.length > 0, "the matched push", 15_000, 10);
    expect(messages[0]).toMatchObject({ type: "matched", ticket: { playerId: "url-a", server: address } });
  });

  it("a player who connects after its match still gets the outcome, by the client library's status read (Web PubSub does not replay to new connections)", async () => {
    const address = await addServer();
    const a = await ticket("late-a");
    const b = await ticket("late-b");
    await until(
      async () => (await http.call("GET", b.ticketUri, undefined, { Authorization: `Bearer ${b.token}` })).json?.status === "matched",
      "the duel to be matched",
      15_000,
      50,
    );
    // A raw client connecting now receives nothing: the push went out when late-a had no connection.
    const raw = await listen(a);
    await new Promise((r) => setTimeout(r, 300));
    expect(raw.messages).toHaveLength(0);
    // The library reads the ticket once as soon as its push connection is up.
    const outcome = await watchTicket({ baseUrl: app().baseUrl, ticket: a });
    expect(outcome).toMatchObject({ status: "matched", via: "poll", statusReads: 1, pushConnected: true, ticket: { server: address } });
  });

  it("a disconnect and reconnect mid-search loses nothing: the reliable protocol replays what was sent meanwhile", async () => {
    const address = await addServer();
    const a = await ticket("drop-a");
    const listener = await listen(a);
    const recoveries = wps.counters.recoveries;
    const connection = wps.hub("matchmaking").connections.get(listener.connectionId)!;
    wps.faults.refuseUpgrades = true; // the network is down: recovery attempts fail for now
    connection.socket!.terminate();
    try {
      await ticket("drop-b"); // the match is made while drop-a is away
      await until(() => connection.unackedCount === 1 && connection.socket === undefined, "the push kept for the absent connection", 15_000, 10);
      expect(listener.messages).toHaveLength(0);
    } finally {
      wps.faults.refuseUpgrades = false;
    }
    await until(() => listener.messages.length > 0, "the replayed push", 10_000, 10);
    expect(wps.counters.recoveries).toBe(recoveries + 1);
    expect(listener.connected).toHaveLength(1); // the same connection, recovered
    expect(listener.messages).toHaveLength(1);
    expect(dataOf(listener.messages[0]!)).toMatchObject({ type: "matched", ticket: { ticketId: a.ticketId, server: address } });
  });

  it("a player cannot negotiate for another player", async () => {
    const a = await ticket("neg-a", "trio");
    const other = await http.call("GET", "/api/tickets/neg-b/negotiate", undefined, { Authorization: `Bearer ${a.token}` });
    expect(other.status).toBe(403);
    expect(other.json).toMatchObject({ error: "player_mismatch" });
    expect((await http.call("GET", "/api/tickets/neg-a/negotiate")).status).toBe(401);
    expect((await http.call("GET", "/api/tickets/neg-a/negotiate", undefined, { Authorization: "Bearer forged.token" })).status).toBe(401);
    // Cancel: the player is told (and the trio slot is free again).
    const listener = await listen(a);
    const cancelled = await http.call("DELETE", a.ticketUri, undefined, { Authorization: `Bearer ${a.token}` });
    expect(cancelled.status).toBe(200);
    await until(() => listener.messages.length > 0, "the cancelled push", 5_000, 10);
    expect(dataOf(listener.messages[0]!)).toMatchObject({ type: "cancelled", ticket: { ticketId: a.ticketId, status: "cancelled" } });
  });

  it("a ticket that times out is pushed `timedOut` (from the leave the timeout runs anyway)", async () => {
    const a = await ticket("alone", "trio");
    const listener = await listen(a);
    await until(() => listener.messages.length > 0, "the timedOut push", 20_000, 50);
    expect(dataOf(listener.messages[0]!)).toMatchObject({ type: "timedOut", ticket: { ticketId: a.ticketId, status: "timedOut" } });
  });
});

describe("findMatch (client library) against the running matchmaker", () => {
  it("two players find each other by push, with one status read each", async () => {
    const address = await addServer();
    // fm-b asks once fm-a listens AND has made the one read a connection that came up after its ticket makes
    // (setPushConnected): fm-a's next read is then the 15 s safety net, so it can only be told by push. Waiting
    // for the connection alone raced that read against the match on a loaded machine (a.via was "poll").
    // fm-b's own ticket completes the duel, so the match may be pushed before fm-b's connection exists; it then
    // reads it once (the late-connection rule).
    let listening!: () => void;
    const aListens = new Promise<void>((resolve) => (listening = resolve));
    let up = false;
    const pendingA = findMatch({
      baseUrl: app().baseUrl,
      playerId: "fm-a",
      mode: "duel",
      region: REGION,
      onPushState: (state) => (up = state),
      onUpdate: (ticket, via) => up && via === "poll" && ticket.status === "searching" && listening(),
    });
    await aListens;
    const b = await findMatch({ baseUrl: app().baseUrl, playerId: "fm-b", mode: "duel", region: REGION });
    const a = await pendingA;
    expect(a.via).toBe("push");
    for (const o of [a, b]) {
      expect(o.status).toBe("matched");
      expect(o.ticket.server).toBe(address);
      expect(o.pushConnected).toBe(true);
      expect(o.statusReads).toBeLessThanOrEqual(2);
    }
    expect([a.via, b.via]).toContain("push");
    expect(a.ticket.sessionId).toBe(b.ticket.sessionId);
  });

  it("without push (push: false) it polls at the server's pace and gets the same match", async () => {
    const address = await addServer();
    const [a, b] = await Promise.all([
      findMatch({ baseUrl: app().baseUrl, playerId: "poll-a", mode: "duel", push: false, pollIntervalMs: 100 }),
      findMatch({ baseUrl: app().baseUrl, playerId: "poll-b", mode: "duel", push: false, pollIntervalMs: 100 }),
    ]);
    expect(a).toMatchObject({ status: "matched", via: "poll", pushConnected: false, ticket: { server: address } });
    expect(b.ticket.sessionId).toBe(a.ticket.sessionId);
  });

  it("aborting the signal cancels the ticket and resolves `cancelled`", async () => {
    const controller = new AbortController();
    let created: CreatedTicket | undefined;
    const pending = findMatch({ baseUrl: app().baseUrl, playerId: "quitter", mode: "trio", signal: controller.signal, onTicket: (t) => (created = t) });
    await until(() => created !== undefined, "the ticket", 5_000, 10);
    controller.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: "cancelled", via: "cancel", ticket: { playerId: "quitter", status: "cancelled" } });
    const r = await http.call("GET", created!.ticketUri, undefined, { Authorization: `Bearer ${created!.token}` });
    expect(r.json.status).toBe("cancelled");
  });
});
