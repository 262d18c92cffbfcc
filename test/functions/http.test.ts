/**
 * The HTTP API through invokeHttp (the library's real invocation code), with the real store on the test
 * redis, the real local Durable engine behind the durable client, and an in-memory publisher.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { eventPublisher, setEventPublisher } from "../../src/messaging/eventPublisher";
import { setStoreFactory, storeFromSettings } from "../../src/functions/wiring";
import { STATS_CACHE_MS } from "../../src/usecases/stats";
import { SIGNING_KEYS, uniqueId as id, useTestApp, deliverPlayerRequests } from "./support/app";
import { at } from "../support/at";
import { signTicketToken, verifyTicketToken } from "../../src/usecases/ticketToken";
import { checkComponent, checkSchema, openapiDocument } from "../../src/usecases/schemas";
import type { MatchMade, PlayerRequest } from "../../src/domain/types";

const app = useTestApp();
const JSON_HEADERS = { "content-type": "application/json" };

interface Created {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  token: string;
  ticketUri: string;
  statusQueryGetUri: string;
}

const postTicket = (body: Record<string, unknown>) =>
  app.http("tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: JSON.stringify(body) });

async function createTicket(playerId: string, extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await postTicket({ playerId, ...extra });
  expect(res.status, res.body.toString()).toBe(202);
  return res.json as Created;
}

const getTicket = (playerId: string, token?: string, viaQuery = false) =>
  app.http("ticket", {
    method: "GET",
    path: `/api/tickets/${playerId}${viaQuery && token ? `?token=${encodeURIComponent(token)}` : ""}`,
    params: { playerId },
    headers: token && !viaQuery ? { authorization: `Bearer ${token}` } : {},
  });
const cancelTicket = (playerId: string, token: string) =>
  app.http("ticket", { method: "DELETE", path: `/api/tickets/${playerId}`, params: { playerId }, headers: { authorization: `Bearer ${token}` } });

async function putServer(serverId: string, body: unknown, region?: string) {
  return app.http("server", {
    method: "PUT",
    path: `/api/servers/${serverId}`,
    params: { serverId },
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    ...(region ? { query: { region } } : {}),
  });
}

describe("tickets", () => {
  it("POST /api/tickets publishes a schema-valid player request and answers 202 with a token, ticketUri and a key-less status URL", async () => {
    const playerId = id("alice");
    const before = app.publisher.sent.length;
    const res = await postTicket({ playerId, mode: "squad" });
    expect(res.status).toBe(202);
    const body = res.json as Created;
    expect(checkComponent("TicketCreated", body)).toBeUndefined();
    expect(body).toMatchObject({ playerId, mode: "squad", region: "westeurope", ticketUri: `http://matchmaker.test/api/tickets/${playerId}` });
    expect(res.headers.location).toBe(body.ticketUri);
    // The Durable status contract, authorized by the ticket token: no Functions key anywhere.
    expect(body.statusQueryGetUri).toBe(`${body.ticketUri}/status?token=${encodeURIComponent(body.token)}`);
    expect(body.statusQueryGetUri).not.toMatch(/[?&]code=|runtime\/webhooks/);
    const claims = verifyTicketToken(body.token, SIGNING_KEYS);
    expect(claims.ok && claims.claims).toMatchObject({ ticketId: body.ticketId, playerId, region: "westeurope", mode: "squad" });
    const sent = app.publisher.sent.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ hubName: "player-requests", event: { partitionKey: playerId } });
    const msg = at(sent, 0).event.body as PlayerRequest;
    expect(checkSchema("playerRequest", msg, "message")).toBeUndefined();
    expect(msg).toMatchObject({ ticketId: body.ticketId, playerId, mode: "squad", region: "westeurope" });
  });

  it("the ticket reads searching before and after addPlayers, a second live ticket is refused with 409, and the token also works as ?token=", async () => {
    const playerId = id("bob");
    const t = await createTicket(playerId, { mode: "squad" });
    // Still in the Event Hub: accepted, not processed yet.
    expect((await getTicket(playerId, t.token)).json).toMatchObject({ status: "searching", ticketId: t.ticketId });
    await deliverPlayerRequests(app);
    expect(["Pending", "Running"]).toContain((await app.engine.getStatus(playerId))?.runtimeStatus);
    const read = await getTicket(playerId, t.token, true);
    expect(read.status).toBe(200);
    expect(checkComponent("Ticket", read.json)).toBeUndefined();
    expect(read.json).toMatchObject({ playerId, ticketId: t.ticketId, status: "searching", mode: "squad" });

    const dup = await postTicket({ playerId });
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({ error: "ticket_exists", ticket: { ticketId: t.ticketId, status: "searching" } });
    expect(JSON.stringify(dup.json)).not.toContain(t.token);
  });

  it("DELETE cancels: the slot frees at once, the orchestration completes as cancelled, and a repeat is idempotent", async () => {
    const playerId = id("carol");
    const t = await createTicket(playerId, { mode: "squad" });
    await deliverPlayerRequests(app);
    const res = await cancelTicket(playerId, t.token);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ playerId, ticketId: t.ticketId, status: "cancelled" });
    const player = await (await app.store()).getPlayer("westeurope", playerId);
    expect(player).toMatchObject({ state: "left", leftReason: "cancelled" });
    const done = await app.waitForStatus(playerId, "Completed");
    expect(JSON.parse(done.output!)).toEqual({ status: "cancelled", ticketId: t.ticketId });
    expect((await getTicket(playerId, t.token)).json).toMatchObject({ status: "cancelled" });
    expect((await cancelTicket(playerId, t.token)).status).toBe(200);
    // The player may ask again now.
    await createTicket(playerId, { mode: "squad" });
  });

  it("a cancel that overtakes the request (still in the Event Hub) wins: the late request is not queued and its orchestration ends cancelled", async () => {
    const playerId = id("early");
    const t = await createTicket(playerId, { mode: "squad" });
    const res = await cancelTicket(playerId, t.token); // no orchestration yet: the store records the cancel
    expect(res.status).toBe(200);
    await deliverPlayerRequests(app);
    const done = await app.waitForStatus(playerId, "Completed");
    expect(JSON.parse(done.output!)).toEqual({ status: "cancelled", ticketId: t.ticketId });
    const stats = await (await app.store()).getPlayer("westeurope", playerId);
    expect(stats?.state).toBe("left");
  });

  it("a matched ticket reads matched with its server, and cannot be cancelled (409 with the match)", async () => {
    const a = id("dave");
    const b = id("erin");
    const serverId = id("gs");
    expect((await putServer(serverId, { address: "10.9.8.7:30000" })).status).toBe(201);
    const ta = await createTicket(a);
    await createTicket(b);
    await deliverPlayerRequests(app);
    const read = await getTicket(a, ta.token);
    expect(checkComponent("Ticket", read.json)).toBeUndefined();
    expect(read.json).toMatchObject({ status: "matched", serverId, server: "10.9.8.7:30000" });
    expect((read.json as { players: { playerId: string }[] }).players.map((p) => p.playerId).sort()).toEqual([a, b].sort());
    const cancel = await cancelTicket(a, ta.token);
    expect(cancel.status).toBe(409);
    expect(cancel.json).toMatchObject({ error: "already_matched", match: { status: "matched", serverId, server: "10.9.8.7:30000" } });

    // And once the match-made message is delivered, the orchestration's output agrees.
    const msg = (app.publisher.bodies("match-made") as MatchMade[]).find((m) => m.serverId === serverId)!;
    await app.eventHub("matchMade", [msg]);
    const done = await app.waitForStatus(a, "Completed");
    expect(JSON.parse(done.output!)).toMatchObject({ status: "matched", ticketId: ta.ticketId, serverId });
  });

  it("a server that dies after confirming the match makes the ticket read serverLost (the game is over, not requeued)", async () => {
    const a = id("ivy");
    const b = id("jon");
    const serverId = id("gs");
    const addr = "10.9.8.5:30000";
    expect((await putServer(serverId, { address: addr })).status).toBe(201);
    const ta = await createTicket(a);
    await createTicket(b);
    await deliverPlayerRequests(app);
    expect((await getTicket(a, ta.token)).json).toMatchObject({ status: "matched", serverId });
    expect((await putServer(serverId, { address: addr })).json).toMatchObject({ outcome: "heartbeat", confirmedSessionId: expect.any(String) });
    try {
      app.advanceStoreClock(61_000); // past the server's lease: it died while running the confirmed game
      await app.timer("assignSessions");
      const lost = await getTicket(a, ta.token);
      expect(lost.status).toBe(200);
      expect(lost.json).toMatchObject({ status: "serverLost", serverId, server: addr });
      expect(checkComponent("Ticket", lost.json)).toBeUndefined();
    } finally {
      app.advanceStoreClock(-61_000);
    }
  });

  it("an Event Hubs outage answers 503 with Retry-After (not a 500), and nothing half-done remains", async () => {
    const playerId = id("outage");
    app.publisher.failures = 1;
    const res = await postTicket({ playerId });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: "unavailable" });
    expect(res.headers["retry-after"]).toBe("2");
    expect(JSON.stringify(res.json)).not.toContain("simulated"); // internals stay in the log
    expect(app.logs.some((l) => l.level === "error" && l.message.includes("simulated Event Hubs failure"))).toBe(true);
    // The client retries and gets its ticket: no stale reservation blocks it.
    await createTicket(playerId);
  });

  it("GET /api/tickets/{playerId}/status answers exactly as the Durable status endpoint does: 202 + Location + Retry-After, then 200, same body", async () => {
    const a = id("gina");
    const b = id("hal");
    const serverId = id("gs");
    expect((await putServer(serverId, { address: "10.9.8.6:30000" })).status).toBe(201);
    const ta = await createTicket(a);
    const status = (t: Created) =>
      app.http("ticketStatus", { method: "GET", url: t.statusQueryGetUri, params: { playerId: t.playerId }, query: { token: t.token } });
    const durable = async (playerId: string) => {
      const r = await app.engine.handleHttp({ method: "GET", url: `/runtime/webhooks/durabletask/instances/${playerId}`, headers: {}, body: Buffer.alloc(0) });
      return { status: r!.status, body: JSON.parse(r!.body.toString()) as Record<string, unknown> };
    };
    // Still in the hub: the instance reads as the extension shows a scheduled one.
    const pending = await status(ta);
    expect(pending.status).toBe(202);
    expect(pending.json).toMatchObject({ name: "matchRequest", instanceId: a, runtimeStatus: "Pending" });
    expect(pending.headers.location).toBe(ta.statusQueryGetUri);
    expect(Number(pending.headers["retry-after"])).toBeGreaterThan(0);
    expect(checkComponent("InstanceStatus", pending.json)).toBeUndefined();

    await deliverPlayerRequests(app);
    const running = await status(ta);
    const raw = await durable(a);
    expect([running.status, raw.status]).toEqual([202, 202]);
    expect(running.json).toEqual(raw.body);
    expect(running.headers.location).toBe(ta.statusQueryGetUri);

    await createTicket(b);
    await deliverPlayerRequests(app);
    // Ready sessions other tests left waiting for a server go first (oldest first): add servers until gina's has one.
    for (let i = 0; i < 5 && (await (await app.store()).getPlayer("westeurope", a))?.state !== "matched"; i++) {
      expect((await putServer(id("gs"), { address: `10.9.7.${i + 1}:30000` })).status).toBe(201);
      await app.timer("assignSessions");
    }
    // The session that took gina (with hal, or with a player another test left waiting).
    const msg = (app.publisher.bodies("match-made") as MatchMade[]).find((m) => m.players.some((p) => p.playerId === a))!;
    await app.eventHub("matchMade", [msg]);
    await app.waitForStatus(a, "Completed");
    const done = await status(ta);
    const rawDone = await durable(a);
    expect([done.status, rawDone.status]).toEqual([200, 200]);
    expect(done.json).toEqual(rawDone.body);
    expect(done.json).toMatchObject({ runtimeStatus: "Completed", output: { status: "matched", ticketId: ta.ticketId, serverId: msg.serverId } });
    expect(String((done.json as { createdTime: string }).createdTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // Another player's token is refused; a token of a ticket no orchestration ran is 404 once it is too old to be in the hub.
    const foreign = await app.http("ticketStatus", { method: "GET", path: `/api/tickets/${b}/status`, params: { playerId: b }, query: { token: ta.token } });
    expect(foreign.status).toBe(401);
    const nobody = id("nobody");
    const hourAgo = Date.now() - 3600_000;
    const old = signTicketToken({ ticketId: id("t"), playerId: nobody, region: "westeurope", mode: "duel", rat: hourAgo }, SIGNING_KEYS, 7200, hourAgo);
    const gone = await app.http("ticketStatus", { method: "GET", path: `/api/tickets/${nobody}/status`, params: { playerId: nobody }, query: { token: old } });
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ error: "ticket_not_found" });
  });

  it("links in answers use the request's host only when it is a strict host[:port]; a broken Host is a 400, not a 500", async () => {
    const playerId = id("host");
    const res = await app.http("tickets", {
      method: "POST",
      url: "http://play.example.com:8443/api/tickets",
      headers: { ...JSON_HEADERS, host: "play.example.com:8443" },
      body: JSON.stringify({ playerId }),
    });
    expect(res.status).toBe(202);
    expect((res.json as Created).ticketUri).toBe(`http://play.example.com:8443/api/tickets/${playerId}`);
    for (const host of ["bad host", "a_b.example", "x:0", "[::1", "evil.example:65536", "ex\u00e4mple.com"]) {
      const bad = await app.http("tickets", {
        method: "POST",
        path: "/api/tickets",
        headers: { ...JSON_HEADERS, host },
        body: JSON.stringify({ playerId: id("h") }),
      });
      expect({ host, status: bad.status, error: (bad.json as { error?: string }).error }).toEqual({ host, status: 400, error: "invalid_host" });
    }
  });

  it("with Event Hubs unreachable (the real producer), POST answers 503 within a few seconds and logs the inner causes", async () => {
    // A port nobody listens on: every connection attempt is refused (the failure the SDK wraps in an AggregateError).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    process.env.EventHubConnection = `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`;
    setEventPublisher(undefined); // the app's own EventHubProducerClient publisher
    const logsBefore = app.logs.length;
    try {
      const started = Date.now();
      const res = await postTicket({ playerId: id("nohub") });
      const tookMs = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ error: "unavailable", detail: "Event Hubs is unavailable; retry later" });
      expect(tookMs).toBeLessThan(8000);
      const logged = app.logs
        .slice(logsBefore)
        .filter((l) => l.level === "error")
        .map((l) => l.message)
        .join("\n");
      expect(logged).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    } finally {
      await eventPublisher().close();
      setEventPublisher(app.publisher);
      delete process.env.EventHubConnection;
    }
  });

  it("refuses a missing, malformed, forged, tampered or foreign token with 401", async () => {
    const playerId = id("frank");
    const t = await createTicket(playerId, { mode: "squad" });
    const parts = t.token.split(".");
    const [payload, mac] = [at(parts, 0), at(parts, 1)];
    const tamperedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), region: "eastus" })).toString(
      "base64url",
    );
    const other = await createTicket(id("grace"), { mode: "squad" });
    const forged = signTicketToken(
      { ticketId: t.ticketId, playerId, region: "westeurope", mode: "squad", rat: Date.now() },
      [{ kid: "default", key: "another-key-of-at-least-32-characters-long!" }],
      3600,
    );
    const cases: [string, string | undefined, string][] = [
      ["no token", undefined, "missing_token"],
      ["garbage", "not-a-token", "invalid_token"],
      ["forged with another key", forged, "invalid_token"],
      ["tampered payload", `${tamperedPayload}.${mac}`, "invalid_token"],
      ["truncated signature", `${payload}.${mac.slice(0, -4)}`, "invalid_token"],
      ["another player's token", other.token, "invalid_token"],
    ];
    for (const [what, token, error] of cases) {
      for (const method of ["GET", "DELETE"] as const) {
        const res = await app.http("ticket", {
          method,
          path: `/api/tickets/${playerId}`,
          params: { playerId },
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        expect([what, method, res.status, (res.json as { error: string }).error]).toEqual([what, method, 401, error]);
        expect(res.headers["www-authenticate"]).toContain("Bearer");
      }
    }
    // Nothing was cancelled by any of those.
    await deliverPlayerRequests(app);
    expect((await getTicket(playerId, t.token)).json).toMatchObject({ status: "searching" });
  });
});

describe("servers, stats, openapi", () => {
  it("register (201), heartbeat (200), list, allocation, release and deregister", async () => {
    const serverId = id("srv");
    const first = await putServer(serverId, { address: "game.example.net:7777", region: "eastus" });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ serverId, region: "eastus", address: "game.example.net:7777", state: "available", outcome: "registered" });
    expect(checkComponent("Server", first.json)).toBeUndefined();
    const beat = await putServer(serverId, { address: "game.example.net:7777", region: "eastus" });
    expect(beat.status).toBe(200);
    expect(beat.json).toMatchObject({ outcome: "heartbeat" });

    const list = await app.http("servers", { method: "GET", path: "/api/servers", query: { region: "eastus" } });
    expect(list.status).toBe(200);
    expect((list.json as { servers: { serverId: string }[] }).servers.map((s) => s.serverId)).toContain(serverId);
    expect(checkComponent("ServerList", list.json)).toBeUndefined();

    const alloc = await app.http("serverAllocation", {
      method: "GET",
      path: `/api/servers/${serverId}/allocation`,
      params: { serverId },
      query: { region: "eastus" },
    });
    expect(alloc.status).toBe(200);
    expect(alloc.json).toMatchObject({ server: { serverId, state: "available" } });
    expect((alloc.json as { session?: unknown }).session).toBeUndefined();

    const rel = await app.http("serverRelease", {
      method: "POST",
      path: `/api/servers/${serverId}/release`,
      params: { serverId },
      query: { region: "eastus" },
    });
    expect(rel.status).toBe(200);
    expect(rel.json).toMatchObject({ outcome: "alreadyAvailable" });

    const del = await app.http("server", { method: "DELETE", path: `/api/servers/${serverId}`, params: { serverId }, query: { region: "eastus" } });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ serverId, removed: true });
    expect(checkComponent("Deregistered", del.json)).toBeUndefined();
    const gone = await app.http("server", { method: "DELETE", path: `/api/servers/${serverId}`, params: { serverId }, query: { region: "eastus" } });
    expect(gone.status).toBe(404);
  });

  it("an allocated server shows its session; release with the wrong session is 409, with the right one 200", async () => {
    const serverId = id("srv");
    expect((await putServer(serverId, { address: "10.0.0.9:9000" }, "eastus")).status).toBe(201);
    const a = id("p");
    const b = id("q");
    await createTicket(a, { region: "eastus" });
    await createTicket(b, { region: "eastus" });
    await deliverPlayerRequests(app);
    const alloc = await app.http("serverAllocation", {
      method: "GET",
      path: `/api/servers/${serverId}/allocation`,
      params: { serverId },
      query: { region: "eastus" },
    });
    expect(checkComponent("Allocation", alloc.json)).toBeUndefined();
    const session = (alloc.json as { session: { sessionId: string; players: { playerId: string }[] } }).session;
    expect(session.players.map((p) => p.playerId).sort()).toEqual([a, b].sort());
    const release = (sessionId: string) =>
      app.http("serverRelease", {
        method: "POST",
        path: `/api/servers/${serverId}/release`,
        params: { serverId },
        query: { region: "eastus" },
        headers: JSON_HEADERS,
        body: JSON.stringify({ sessionId }),
      });
    const wrong = await release("eastus.999999");
    expect(wrong.status).toBe(409);
    expect(wrong.json).toMatchObject({ error: "session_mismatch" });
    const right = await release(session.sessionId);
    expect(right.status).toBe(200);
    expect(right.json).toMatchObject({ outcome: "released", endedSessionId: session.sessionId, server: { state: "available" } });
    expect(checkComponent("Release", right.json)).toBeUndefined();
  });

  it("GET /api/stats is cached per instance for a second: a burst costs one Redis read per region", async () => {
    let reads = 0;
    setStoreFactory(async (s) => {
      const real = await storeFromSettings(s);
      const stats = real.stats.bind(real);
      real.stats = (region) => {
        reads++;
        return stats(region);
      };
      return real;
    });
    try {
      await new Promise((r) => setTimeout(r, STATS_CACHE_MS + 50)); // nothing cached from earlier tests
      const burst = await Promise.all(Array.from({ length: 50 }, () => app.http("stats", { method: "GET", path: "/api/stats" })));
      expect(burst.every((r) => r.status === 200)).toBe(true);
      expect(new Set(burst.map((r) => (r.json as { at: string }).at)).size).toBe(1);
      expect(reads).toBe(2); // two regions
      await new Promise((r) => setTimeout(r, STATS_CACHE_MS + 50));
      expect((await app.http("stats", { method: "GET", path: "/api/stats" })).status).toBe(200);
      expect(reads).toBe(4);
    } finally {
      (await app.store()).close().catch(() => undefined);
      app.restoreStore();
    }
  });

  it("GET /api/stats reports every region; GET /api/openapi.json serves the document the handlers validate with", async () => {
    const stats = await app.http("stats", { method: "GET", path: "/api/stats" });
    expect(stats.status).toBe(200);
    expect(checkComponent("Stats", stats.json)).toBeUndefined();
    const regions = (stats.json as { regions: { region: string; waitingByMode: Record<string, number> }[] }).regions;
    expect(regions.map((r) => r.region)).toEqual(["westeurope", "eastus"]);
    expect(Object.keys(at(regions, 0).waitingByMode).sort()).toEqual(["duel", "squad"]);
    // The number form of MATCH_MODES reads as sizes, and as normalized FIFO rules (solo, one team).
    expect((stats.json as { modes: unknown }).modes).toEqual({ duel: 2, squad: 4 });
    expect((stats.json as { modeRules: unknown }).modeRules).toEqual({
      duel: { size: 2, teams: 1, teamSize: 2, maxPartySize: 1 },
      squad: { size: 4, teams: 1, teamSize: 4, maxPartySize: 1 },
    });
    const doc = await app.http("openapi", { method: "GET", path: "/api/openapi.json" });
    expect(doc.status).toBe(200);
    expect(doc.json).toEqual(openapiDocument);
  });
});

describe("bad requests get a 4xx {error, detail}, never a 500", () => {
  const big = JSON.stringify({ playerId: "x".repeat(5000) });
  type Case = [
    string,
    string,
    { method: string; path: string; params?: Record<string, string>; headers?: Record<string, string>; body?: string; query?: Record<string, string> },
    number,
    string,
  ];
  const cases: Case[] = [
    ["POST tickets without a body", "tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS }, 400, "missing_body"],
    ["POST tickets with broken JSON", "tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: "{playerId:" }, 400, "malformed_json"],
    [
      "POST tickets as text/plain",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: { "content-type": "text/plain" }, body: '{"playerId":"a"}' },
      415,
      "unsupported_media_type",
    ],
    ["POST tickets over 4 KB", "tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: big }, 413, "body_too_large"],
    ["POST tickets with a JSON array", "tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: "[]" }, 400, "invalid_body"],
    ["POST tickets without playerId", "tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: "{}" }, 400, "missing_field"],
    [
      "POST tickets with a bad playerId",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a b"}' },
      400,
      "invalid_playerId",
    ],
    [
      "POST tickets with an unknown field",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a","level":3}' },
      400,
      "unknown_field",
    ],
    [
      "POST tickets with an unknown mode",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a","mode":"chess"}' },
      400,
      "unknown_mode",
    ],
    [
      "POST tickets with an unknown region",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a","region":"mars"}' },
      400,
      "unknown_region",
    ],
    [
      "POST tickets with a mode of the wrong type",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a","mode":2}' },
      400,
      "invalid_mode",
    ],
    [
      "POST tickets with an unknown query parameter",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"a"}', query: { debug: "1" } },
      400,
      "unknown_parameter",
    ],
    ...["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"].map((name): Case => [
      `POST tickets with the prototype name ${name} as mode`,
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: JSON.stringify({ playerId: "evilA", mode: name.toLowerCase() }) },
      400,
      name === "__proto__" ? "invalid_mode" : "unknown_mode",
    ]),
    [
      "POST tickets with a prototype name as region",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: '{"playerId":"evilA","region":"constructor"}' },
      400,
      "unknown_region",
    ],
    [
      "POST tickets with a broken Host",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: { ...JSON_HEADERS, host: "evil example:80" }, body: '{"playerId":"a"}' },
      400,
      "invalid_host",
    ],
    [
      "POST tickets with a Host port out of range",
      "tickets",
      { method: "POST", path: "/api/tickets", headers: { ...JSON_HEADERS, host: "matchmaker.test:99999" }, body: '{"playerId":"a"}' },
      400,
      "invalid_host",
    ],
    ["GET a ticket's status without token", "ticketStatus", { method: "GET", path: "/api/tickets/a/status", params: { playerId: "a" } }, 401, "missing_token"],
    ["DELETE a ticket's status", "ticketStatus", { method: "DELETE", path: "/api/tickets/a/status", params: { playerId: "a" } }, 405, "method_not_allowed"],
    ["GET tickets (collection)", "tickets", { method: "GET", path: "/api/tickets" }, 405, "method_not_allowed"],
    ["PUT a ticket", "ticket", { method: "PUT", path: "/api/tickets/a", params: { playerId: "a" } }, 405, "method_not_allowed"],
    ["GET a ticket with a bad playerId", "ticket", { method: "GET", path: "/api/tickets/a.b", params: { playerId: "a.b" } }, 400, "invalid_playerId"],
    ["GET a ticket without token", "ticket", { method: "GET", path: "/api/tickets/a", params: { playerId: "a" } }, 401, "missing_token"],
    ["PUT server without a body", "server", { method: "PUT", path: "/api/servers/s1", params: { serverId: "s1" }, headers: JSON_HEADERS }, 400, "missing_body"],
    [
      "PUT server without address",
      "server",
      { method: "PUT", path: "/api/servers/s1", params: { serverId: "s1" }, headers: JSON_HEADERS, body: "{}" },
      400,
      "missing_field",
    ],
    [
      "PUT server with a bad address",
      "server",
      { method: "PUT", path: "/api/servers/s1", params: { serverId: "s1" }, headers: JSON_HEADERS, body: '{"address":"nohost"}' },
      400,
      "invalid_address",
    ],
    [
      "PUT server with port 0",
      "server",
      { method: "PUT", path: "/api/servers/s1", params: { serverId: "s1" }, headers: JSON_HEADERS, body: '{"address":"10.0.0.1:0"}' },
      400,
      "invalid_address",
    ],
    [
      "PUT server in an unknown region",
      "server",
      { method: "PUT", path: "/api/servers/s1", params: { serverId: "s1" }, headers: JSON_HEADERS, body: '{"address":"10.0.0.1:1","region":"mars"}' },
      400,
      "unknown_region",
    ],
    [
      "PUT server with a bad serverId",
      "server",
      { method: "PUT", path: "/api/servers/x%20y", params: { serverId: "x y" }, headers: JSON_HEADERS, body: '{"address":"10.0.0.1:1"}' },
      400,
      "invalid_serverId",
    ],
    ["POST a server", "server", { method: "POST", path: "/api/servers/s1", params: { serverId: "s1" } }, 405, "method_not_allowed"],
    [
      "release an unknown server",
      "serverRelease",
      { method: "POST", path: "/api/servers/nope/release", params: { serverId: "nope" } },
      404,
      "server_not_found",
    ],
    [
      "release with a bad sessionId",
      "serverRelease",
      { method: "POST", path: "/api/servers/nope/release", params: { serverId: "nope" }, headers: JSON_HEADERS, body: '{"sessionId":"../x"}' },
      400,
      "invalid_sessionId",
    ],
    ["GET release", "serverRelease", { method: "GET", path: "/api/servers/nope/release", params: { serverId: "nope" } }, 405, "method_not_allowed"],
    [
      "allocation of an unknown server",
      "serverAllocation",
      { method: "GET", path: "/api/servers/nope/allocation", params: { serverId: "nope" } },
      404,
      "server_not_found",
    ],
    ["DELETE an unknown server", "server", { method: "DELETE", path: "/api/servers/nope", params: { serverId: "nope" } }, 404, "server_not_found"],
    ["servers in an unknown region", "servers", { method: "GET", path: "/api/servers", query: { region: "mars" } }, 400, "unknown_region"],
    ["servers with a malformed region", "servers", { method: "GET", path: "/api/servers", query: { region: "Mars!" } }, 400, "invalid_region"],
    ["DELETE stats", "stats", { method: "DELETE", path: "/api/stats" }, 405, "method_not_allowed"],
    ["POST openapi.json", "openapi", { method: "POST", path: "/api/openapi.json" }, 405, "method_not_allowed"],
  ];

  it.each(cases)("%s [%s] -> %i %s", async (_what, fn, req, status, error) => {
    const res = await app.http(fn, req);
    expect(res.status).toBe(status);
    const body = res.json as { error: string; detail: string };
    expect(body.error).toBe(error);
    expect(checkComponent("Error", body)).toBeUndefined();
    expect(typeof body.detail).toBe("string");
    expect(body.detail.length).toBeGreaterThan(0);
    if (status === 405) expect(res.headers.allow).toBeTruthy();
  });
});
