/**
 * The client library's GameServer against the running matchmaker: register, heartbeat on the lease, learn
 * the allocation and ack the claim, release, deregister.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { api, matchSettings, until, useApp, type Api } from "../e2e/harness";
import { findMatch, GameServer } from "../../client/index";

const REGION = "westeurope";
const app = useApp({ ...matchSettings({ duel: 2 }, [REGION], 20), ASSIGN_SCHEDULE: "*/1 * * * * *", SERVER_LEASE_SECONDS: "3" });
let http: Api;
let server: GameServer;

beforeAll(() => {
  http = api(app());
  server = new GameServer({ baseUrl: app().baseUrl, functionKey: app().keys.functionKeys[0]!, serverId: "helper-1", address: "10.1.0.1:7777" });
});
afterAll(async () => {
  await server.stop();
});

const key = () => ({ "x-functions-key": app().keys.functionKeys[0]! });

it("registers, keeps its lease by heartbeats, gets and acks a session, releases and leaves the pool", async () => {
  const registered = await server.register();
  expect(registered).toMatchObject({ serverId: "helper-1", region: REGION, outcome: "registered", leaseSeconds: 3 });
  const firstLease = Date.parse(registered.leaseExpiresAt);
  // Heartbeats every lease/3: the lease moves on and the server outlives its first 3 s lease.
  await new Promise((r) => setTimeout(r, 3_500));
  const pool = await http.call("GET", "/api/servers/helper-1/allocation", undefined, key());
  expect(pool.status).toBe(200);
  expect(Date.parse(pool.json.server.leaseExpiresAt)).toBeGreaterThan(firstLease);

  const allocating = server.waitForAllocation({ pollMs: 100 });
  const [a, b] = await Promise.all([
    findMatch({ baseUrl: app().baseUrl, playerId: "gs-a", mode: "duel" }),
    findMatch({ baseUrl: app().baseUrl, playerId: "gs-b", mode: "duel" }),
  ]);
  expect(a).toMatchObject({ status: "matched", ticket: { server: "10.1.0.1:7777", serverId: "helper-1" } });
  const allocation = await allocating;
  expect(allocation.session.sessionId).toBe(a.ticket.sessionId);
  expect(allocation.session.players.map((p) => p.playerId).sort()).toEqual(["gs-a", "gs-b"]);
  expect(b.ticket.sessionId).toBe(a.ticket.sessionId);
  // The ack confirmed the claim.
  const confirmed = await server.allocation();
  expect(confirmed.server.state).toBe("allocated");
  expect(confirmed.server).toHaveProperty("confirmedAt");

  await server.release(allocation.session.sessionId);
  await until(async () => (await server.allocation()).server.state === "available", "the server back in the pool", 5_000, 50);
  expect((await server.allocation()).session).toBeUndefined();

  await server.stop({ deregister: true });
  expect((await http.call("GET", "/api/servers/helper-1/allocation", undefined, key())).status).toBe(404);
});
