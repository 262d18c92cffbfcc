/**
 * The game-server API through invokeHttp (the library's real invocation code) on the real store: a serverId
 * is one server wherever it lives (routes without ?region= act on it there), one live server per address,
 * and the claim window (ack route, heartbeat confirmation).
 */
import { describe, expect, it } from "vitest";
import { uniqueId as id, useTestApp } from "./support/app";
import { checkComponent } from "../../src/usecases/schemas";

const app = useTestApp();
const JSON_HEADERS = { "content-type": "application/json" };

const put = (serverId: string, body: unknown, query?: Record<string, string>) =>
  app.http("server", {
    method: "PUT",
    path: `/api/servers/${serverId}`,
    params: { serverId },
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    ...(query ? { query } : {}),
  });
const del = (serverId: string, query?: Record<string, string>) =>
  app.http("server", { method: "DELETE", path: `/api/servers/${serverId}`, params: { serverId }, ...(query ? { query } : {}) });
const allocation = (serverId: string, query?: Record<string, string>) =>
  app.http("serverAllocation", { method: "GET", path: `/api/servers/${serverId}/allocation`, params: { serverId }, ...(query ? { query } : {}) });
const release = (serverId: string, body?: unknown) =>
  app.http("serverRelease", {
    method: "POST",
    path: `/api/servers/${serverId}/release`,
    params: { serverId },
    ...(body === undefined ? {} : { headers: JSON_HEADERS, body: JSON.stringify(body) }),
  });
const ack = (serverId: string, body?: unknown, query?: Record<string, string>) =>
  app.http("serverAck", {
    method: "POST",
    path: `/api/servers/${serverId}/ack`,
    params: { serverId },
    ...(body === undefined ? {} : { headers: JSON_HEADERS, body: typeof body === "string" ? body : JSON.stringify(body) }),
    ...(query ? { query } : {}),
  });

let port = 20_000;
const address = () => `10.77.0.1:${++port}`;

/** Two players queued in `region` (straight to addPlayers, as the Event Hub trigger would deliver them): they fill a duel. */
async function fillDuel(region: string): Promise<string[]> {
  const players = [id("p"), id("q")];
  await app.eventHub(
    "addPlayers",
    players.map((playerId) => ({ ticketId: id("t"), playerId, mode: "duel", region, requestedAt: new Date(Date.now()).toISOString() })),
  );
  return players;
}

describe("game servers are global", () => {
  it("es-9: a heartbeat without region finds the server in eastus; allocation, release and DELETE without ?region= act on it there", async () => {
    const es9 = id("es-9");
    const addr = address();
    const reg = await put(es9, { address: addr, region: "eastus" });
    expect(reg.status).toBe(201);
    // Before: 201 "registered" again, in the default region westeurope (one id, two records, two allocations).
    const beat = await put(es9, { address: addr });
    expect(beat.status).toBe(200);
    expect(beat.json).toMatchObject({ serverId: es9, region: "eastus", outcome: "heartbeat", leaseSeconds: 30, claimSeconds: 60 });
    expect(checkComponent("Server", beat.json)).toBeUndefined();
    const list = await app.http("servers", { method: "GET", path: "/api/servers" });
    expect((list.json as { servers: { serverId: string; region: string }[] }).servers.filter((s) => s.serverId === es9)).toEqual([
      expect.objectContaining({ region: "eastus" }),
    ]);

    const players = await fillDuel("eastus");
    const alloc = await allocation(es9);
    expect(alloc.status).toBe(200);
    expect(alloc.json).toMatchObject({ server: { region: "eastus", state: "allocated" } });
    expect(checkComponent("Allocation", alloc.json)).toBeUndefined();
    const session = (alloc.json as { session: { sessionId: string; players: { playerId: string }[] } }).session;
    expect(session.players.map((p) => p.playerId).sort()).toEqual([...players].sort());
    expect((await allocation(es9, { region: "westeurope" })).status).toBe(404);

    const rel = await release(es9, { sessionId: session.sessionId });
    expect(rel.status).toBe(200);
    expect(rel.json).toMatchObject({ outcome: "released", endedSessionId: session.sessionId, server: { region: "eastus" } });
    const gone = await del(es9);
    expect(gone.status).toBe(200);
    expect(gone.json).toEqual({ serverId: es9, region: "eastus", removed: true });
    expect(checkComponent("Deregistered", gone.json)).toBeUndefined();
    expect((await del(es9)).json).toMatchObject({ error: "server_not_found" });
  });

  it("409s: region_conflict for a live server named elsewhere, address_in_use for a second id at a live address", async () => {
    const s1 = id("s1");
    const addr = address();
    expect((await put(s1, { address: addr, region: "eastus" })).status).toBe(201);
    const moved = await put(s1, { address: addr, region: "westeurope" });
    expect(moved.status).toBe(409);
    expect(moved.json).toMatchObject({ error: "region_conflict", region: "eastus" });
    expect(checkComponent("ServerConflict", moved.json)).toBeUndefined();
    const twin = await put(id("s2"), { address: addr });
    expect(twin.status).toBe(409);
    expect(twin.json).toMatchObject({ error: "address_in_use", heldBy: s1 });
    expect((twin.json as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    const readdress = await put(s1, { address: address() });
    expect(readdress.status).toBe(409);
    expect(readdress.json).toMatchObject({ error: "address_conflict" });
  });
});

describe("the claim window", () => {
  it("POST /ack confirms the claimed session once; refuses a wrong session, an idle server and an unknown one", async () => {
    const s = id("acker");
    expect((await ack(s)).status).toBe(404);
    expect((await put(s, { address: address() })).status).toBe(201);
    const idle = await ack(s);
    expect(idle.status).toBe(409);
    expect(idle.json).toMatchObject({ error: "not_allocated" });
    await fillDuel("westeurope");
    const alloc = (await allocation(s)).json as { server: { claimExpiresAt?: string }; session: { sessionId: string } };
    expect(Date.parse(alloc.server.claimExpiresAt!)).toBeGreaterThan(Date.now());
    const wrong = await ack(s, { sessionId: "westeurope.999999" });
    expect(wrong.status).toBe(409);
    expect(wrong.json).toMatchObject({ error: "session_mismatch" });
    const ok = await ack(s, { sessionId: alloc.session.sessionId });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ outcome: "confirmed", sessionId: alloc.session.sessionId, server: { state: "allocated" } });
    expect(checkComponent("Ack", ok.json)).toBeUndefined();
    expect((ok.json as { server: { confirmedAt?: string } }).server.confirmedAt).toBeDefined();
    expect((await ack(s)).json).toMatchObject({ outcome: "alreadyConfirmed" });
    expect((await ack(s, undefined, { region: "eastus" })).status).toBe(404);
    expect((await ack(s, { sessionId: "../x" })).json).toMatchObject({ error: "invalid_sessionId" });
    expect((await ack(s, { extra: 1 })).json).toMatchObject({ error: "unknown_field" });
    expect((await ack(s, "{oops")).json).toMatchObject({ error: "malformed_json" });
    expect((await app.http("serverAck", { method: "GET", path: `/api/servers/${s}/ack`, params: { serverId: s } })).status).toBe(405);
  });

  it("a heartbeat confirms the claim (confirmedSessionId); the sweeper then loses the confirmed game and requeues the unconfirmed one", async () => {
    const beater = id("beater");
    const mute = id("mute");
    const beaterAddr = address();
    await put(beater, { address: beaterAddr });
    const confirmedPlayers = await fillDuel("westeurope");
    const mine = (await allocation(beater)).json as { session: { sessionId: string } };
    const hb = await put(beater, { address: beaterAddr });
    expect(hb.json).toMatchObject({ outcome: "heartbeat", confirmedSessionId: mine.session.sessionId });

    await put(mute, { address: address() });
    const unconfirmedPlayers = await fillDuel("westeurope");
    const theirs = (await allocation(mute)).json as { session: { sessionId: string } };
    try {
      app.advanceStoreClock(61_000); // past the claim window and the 30 s lease of both: both servers died
      await app.timer("assignSessions");
      expect((await allocation(mute)).status).toBe(404);
      expect((await allocation(beater)).status).toBe(404);
      const st = await app.store();
      for (const p of confirmedPlayers) {
        expect(await st.getPlayer("westeurope", p)).toMatchObject({ state: "matched", sessionId: mine.session.sessionId, serverLostAtMs: expect.any(Number) });
      }
      for (const p of unconfirmedPlayers) expect(await st.getPlayer("westeurope", p)).toMatchObject({ state: "waiting", sessionId: theirs.session.sessionId });
    } finally {
      app.advanceStoreClock(-61_000);
    }
  });
});

describe("hostile input on the server routes: always 4xx with {error, detail}, never a 5xx", () => {
  const bad: [string, () => ReturnType<typeof put>, number, string][] = [
    ["serverId with unicode", () => put("sérvér", { address: "10.0.0.1:1" }), 400, "invalid_serverId"],
    ["serverId too long", () => put("x".repeat(65), { address: "10.0.0.1:1" }), 400, "invalid_serverId"],
    ["region constructor", () => put(id("s"), { address: "10.0.0.1:1", region: "constructor" }), 400, "unknown_region"],
    ["?region=__proto__", () => del(id("s"), { region: "__proto__" }), 400, "invalid_region"],
    ["?region=toString on allocation", () => allocation(id("s"), { region: "tostring" }), 400, "unknown_region"],
    ["port beyond 65535", () => put(id("s"), { address: "10.0.0.1:99999999999999999999" }), 400, "invalid_address"],
    ["address with a path", () => put(id("s"), { address: "10.0.0.1:80/x" }), 400, "invalid_address"],
    ["address as a number", () => put(id("s"), { address: 1e308 }), 400, "invalid_address"],
    ["address as an object", () => put(id("s"), { address: { __proto__: { polluted: true } } }), 400, "invalid_address"],
    ["unknown body field", () => put(id("s"), { address: "10.0.0.1:1", constructor: "x" }), 400, "unknown_field"],
  ];
  it.each(bad)("%s", async (_name, call, status, error) => {
    const res = await call();
    expect(res.status, JSON.stringify(res.json)).toBe(status);
    expect(res.json).toMatchObject({ error, detail: expect.any(String) });
  });

  it("prototype names are ordinary server ids", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const addr = address();
      expect((await put(name, { address: addr })).status, name).toBe(201);
      expect((await put(name, { address: addr })).json, name).toMatchObject({ serverId: name, outcome: "heartbeat" });
      expect((await del(name)).status, name).toBe(200);
    }
  });
});
