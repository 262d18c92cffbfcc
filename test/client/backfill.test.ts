/**
 * Backfill through the real HTTP path (issue 14): the app in the local runtime, a game server using the
 * client library's GameServer, players using findMatch. A 4-player game that lost a player asks for one;
 * the next fitting ticket joins it within a second, told the server like a new match (push, and its
 * orchestrator completes matched), and appears in the server's allocation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, matchSettings, until, useApp, type Api } from "../e2e/harness";
import { findMatch, GameServer, type CreatedTicket } from "../../client/index";

const REGION = "westeurope";
const app = useApp({ ...matchSettings({ squad: 4, duel: 2 }, [REGION], 20), ASSIGN_SCHEDULE: "*/1 * * * * *", SERVER_LEASE_SECONDS: "5" });
let http: Api;
let server: GameServer;
const key = () => ({ "x-functions-key": app().keys.functionKeys[0]! });

beforeAll(() => {
  http = api(app());
  server = new GameServer({ baseUrl: app().baseUrl, functionKey: app().keys.functionKeys[0]!, serverId: "bf-1", address: "10.9.0.1:7777" });
});
afterAll(async () => {
  await server.stop({ deregister: true });
});

describe("backfill over HTTP", () => {
  it("a 4-player game that lost a player gets one replacement within a second of a fitting ticket; a new request replaces the old", async () => {
    await server.register();
    const allocating = server.waitForAllocation({ pollMs: 100 });
    const first = await Promise.all(["bf-a", "bf-b", "bf-c", "bf-d"].map((playerId) => findMatch({ baseUrl: app().baseUrl, playerId, mode: "squad" })));
    const { session } = await allocating;
    expect(first.every((m) => m.ticket.sessionId === session.sessionId)).toBe(true);

    // One player left the game: ask for one (after asking for two, which the second request replaces).
    const two = await server.requestBackfill(session.sessionId, 2);
    expect(two).toMatchObject({ sessionId: session.sessionId, region: REGION, slots: [2], joined: [] });
    const one = await server.requestBackfill(session.sessionId, 1, { requestId: "bf-d-left" });
    expect(one).toMatchObject({ slots: [1], replacedBackfillId: two.backfillId });
    // A retry of it (same requestId) is answered 200 as before and replaces nothing.
    const retry = await http.call("POST", "/api/servers/bf-1/backfill", { sessionId: session.sessionId, slots: 1, requestId: "bf-d-left" }, key());
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ backfillId: one.backfillId, repeated: true });
    expect((await server.allocation()).backfill).toMatchObject({ backfillId: one.backfillId, slots: [1] });

    let ticket: CreatedTicket | undefined;
    const started = Date.now();
    const late = await findMatch({ baseUrl: app().baseUrl, playerId: "bf-late", mode: "squad", onTicket: (t) => (ticket = t) });
    const tookMs = Date.now() - started;
    expect(late).toMatchObject({ status: "matched", ticket: { sessionId: session.sessionId, serverId: "bf-1", server: "10.9.0.1:7777" } });
    expect(tookMs).toBeLessThan(1000);
    expect(late.ticket.players?.map((p) => p.playerId).sort()).toEqual(["bf-a", "bf-b", "bf-c", "bf-d", "bf-late"]);

    // Its orchestrator got ServerReady (it would otherwise wait out its 20 s timeout).
    await until(
      async () => {
        const st = await http.call("GET", ticket!.statusQueryGetUri!, undefined, { "X-Ticket-Token": ticket!.token });
        return st.json?.runtimeStatus === "Completed" && st.json?.output?.status === "matched" && st.json?.output?.serverId === "bf-1";
      },
      "the late player's orchestrator completed matched",
      3_000,
    );
    // The server's allocation lists the replacement; the request is filled, so it is gone.
    const after = await server.allocation();
    expect(after.session?.players.map((p) => p.playerId)).toContain("bf-late");
    expect(after.backfill).toBeUndefined();

    // Filled: the next squad ticket is not sent to this game; a cancel now has nothing to cancel.
    const ctl = new AbortController();
    let nextTicket: CreatedTicket | undefined;
    const next = findMatch({ baseUrl: app().baseUrl, playerId: "bf-next", mode: "squad", signal: ctl.signal, onTicket: (t) => (nextTicket = t) });
    await until(() => nextTicket !== undefined, "the next ticket", 5_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const bearer = { Authorization: `Bearer ${nextTicket!.token}` };
    expect((await http.call("GET", `/api/tickets/bf-next`, undefined, bearer)).json.status).toBe("searching");
    expect(await server.cancelBackfill()).toBe(false);
    expect((await http.call("DELETE", `/api/tickets/bf-next`, undefined, bearer)).status).toBe(200);
    await until(async () => (await http.call("GET", `/api/tickets/bf-next`, undefined, bearer)).json.status === "cancelled", "bf-next cancelled", 5_000);
    ctl.abort();
    await next.catch(() => undefined);
  });

  it("DELETE cancels an open request; release ends one; bad requests get a clear 4xx", async () => {
    const allocation = await server.allocation();
    const sid = allocation.session!.sessionId;
    await server.requestBackfill(sid, 1);
    expect(await server.cancelBackfill(sid)).toBe(true);
    expect(await server.cancelBackfill(sid)).toBe(false);

    const post = (serverId: string, body: unknown) => http.call("POST", `/api/servers/${serverId}/backfill`, body, key());
    expect((await post("bf-1", { sessionId: sid, slots: 5 })).json).toMatchObject({ error: "invalid_slots" });
    expect((await post("bf-1", { sessionId: sid, slots: [1, 1] })).status).toBe(400);
    expect((await post("bf-1", { sessionId: sid, slots: 0 })).status).toBe(400);
    expect((await post("bf-1", { sessionId: sid, slots: 1, extra: true })).json).toMatchObject({ error: "unknown_field" });
    expect((await post("bf-1", { slots: 1 })).json).toMatchObject({ error: "missing_field" });
    const mismatch = await post("bf-1", { sessionId: `${REGION}.999999`, slots: 1 });
    expect(mismatch.status).toBe(409);
    expect(mismatch.json).toMatchObject({ error: "session_mismatch", currentSessionId: sid });
    expect((await post("nobody", { sessionId: sid, slots: 1 })).status).toBe(404);
    expect((await http.call("POST", `/api/servers/bf-1/backfill`, { sessionId: sid, slots: 1 })).status).toBe(401);

    await server.requestBackfill(sid, 1);
    await server.release(sid);
    const released = await post("bf-1", { sessionId: sid, slots: 1 });
    expect(released.status).toBe(409);
    expect(released.json).toMatchObject({ error: "not_allocated" });
    expect(await server.cancelBackfill()).toBe(false);
  });
});
