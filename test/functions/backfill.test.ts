/**
 * Backfill through the function app (invokeHttp, the real store and the real local Durable engine): the
 * request route, the intake filling it before new sessions, the match-made of a join telling only the
 * joined player (ServerReady to its orchestrator), and the sweep re-publishing a join whose send failed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { returned, uniqueId as id, useTestApp } from "./support/app";
import type { MatchMade } from "../../src/domain/types";
import { checkComponent } from "../../src/usecases/schemas";
import { setPlayerPush, type PushNotice } from "../../src/messaging/webPubSub";
import { setStoreFactory, storeFromSettings } from "../../src/functions/wiring";

const app = useTestApp();
const JSON_HEADERS = { "content-type": "application/json" };
const matchMade = () => app.publisher.bodies("match-made") as MatchMade[];
const request = (playerId: string) => ({ ticketId: id("t"), playerId, mode: "duel", region: "westeurope", requestedAt: new Date().toISOString() });
let port = 31_000;

async function runningDuel(): Promise<{ serverId: string; sessionId: string; players: string[] }> {
  const serverId = id("gs");
  const put = await app.http("server", {
    method: "PUT",
    path: `/api/servers/${serverId}`,
    params: { serverId },
    headers: JSON_HEADERS,
    body: JSON.stringify({ address: `10.31.0.1:${++port}`, region: "westeurope" }),
  });
  expect(put.status).toBe(201);
  const players = [id("a"), id("b")];
  await app.eventHub("addPlayers", players.map(request));
  const msg = matchMade().find((m) => m.serverId === serverId)!;
  await app.eventHub("matchMade", [msg]);
  return { serverId, sessionId: msg.sessionId, players };
}

const backfill = (serverId: string, body: unknown) =>
  app.http("serverBackfill", {
    method: "POST",
    path: `/api/servers/${serverId}/backfill`,
    params: { serverId },
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
  });

afterEach(() => setPlayerPush(null));

describe("backfill through the functions", () => {
  it("push: only the joined player is told, `matched` with the game's server and everyone in it", async () => {
    const game = await runningDuel();
    const pushed: PushNotice[] = [];
    setPlayerPush({
      notify: async (notices) => {
        pushed.push(...notices);
        return { sent: notices.length, failed: 0 };
      },
      clientUrl: async () => "ws://unused",
    });
    await backfill(game.serverId, { sessionId: game.sessionId, slots: 1 });
    const late = id("late");
    await app.eventHub("addPlayers", [request(late)]);
    const matched = pushed.filter((n) => n.type === "matched");
    expect(matched.map((n) => n.playerId)).toEqual([late]);
    expect(matched[0]!.ticket).toMatchObject({ status: "matched", sessionId: game.sessionId, serverId: game.serverId });
    const ticket = matched[0]!.ticket as { players: { playerId: string }[] };
    expect(ticket.players.map((p) => p.playerId).sort()).toEqual([...game.players, late].sort());
  });

  it("a ticket that fits joins the running game; only it is sent ServerReady; the allocation lists it", async () => {
    const game = await runningDuel();
    const r = await backfill(game.serverId, { sessionId: game.sessionId, slots: 1 });
    expect(r.status).toBe(201);
    expect(checkComponent("Backfill", r.json)).toBeUndefined();
    const late = id("late");
    const before = matchMade().length;
    await app.eventHub("addPlayers", [request(late)]);
    const sent = matchMade().slice(before);
    expect(sent).toHaveLength(1);
    const join = sent[0]!;
    expect(join).toMatchObject({ sessionId: game.sessionId, serverId: game.serverId, backfillId: (r.json as { backfillId: string }).backfillId });
    expect(join.joined!.map((p) => p.playerId)).toEqual([late]);
    expect(join.players.map((p) => p.playerId).sort()).toEqual([...game.players, late].sort());
    const delivered = returned<{ raised: number }>(await app.eventHub("matchMade", [join]));
    expect(delivered.raised).toBe(1); // the joined player only: the others learnt their server when the game started
    const done = await app.waitForStatus(late, "Completed");
    expect(JSON.parse(done.output!)).toMatchObject({ status: "matched", sessionId: game.sessionId, serverId: game.serverId });
    const alloc = await app.http("serverAllocation", { method: "GET", path: `/api/servers/${game.serverId}/allocation`, params: { serverId: game.serverId } });
    expect(checkComponent("Allocation", alloc.json)).toBeUndefined();
    expect((alloc.json as { session: { players: { playerId: string }[] } }).session.players.map((p) => p.playerId)).toContain(late);
  });

  it("a join whose match-made send failed stays in the outbox and the sweep re-publishes it", async () => {
    const game = await runningDuel();
    expect((await backfill(game.serverId, { sessionId: game.sessionId, slots: [1] })).status).toBe(201);
    const late = id("late");
    app.publisher.failures = 1;
    await app.eventHub("addPlayers", [request(late)]);
    expect(matchMade().some((m) => m.joined?.some((p) => p.playerId === late))).toBe(false);
    app.advanceStoreClock(11_000);
    await app.timer("assignSessions");
    const republished = matchMade().filter((m) => m.joined?.some((p) => p.playerId === late));
    expect(republished).toHaveLength(1);
    // Confirmed: the next sweep does not send it again.
    app.advanceStoreClock(11_000);
    await app.timer("assignSessions");
    expect(matchMade().filter((m) => m.joined?.some((p) => p.playerId === late))).toHaveLength(1);
  });

  it("the intake fills only where its enqueue saw an open request: none open, no fill call; one open, the ticket joins at once", async () => {
    const fills: string[] = [];
    setStoreFactory(async (s) => {
      const st = await storeFromSettings(s);
      const fill = st.fillBackfills.bind(st);
      st.fillBackfills = (region) => (fills.push(region), fill(region));
      return st;
    });
    try {
      // eastus never had a backfill request: the batch's enqueue saw none, so no fill call is made.
      await app.eventHub("addPlayers", [{ ...request(id("east")), region: "eastus" }]);
      expect(fills).toEqual([]);
      const game = await runningDuel();
      expect(fills).toEqual([]);
      expect((await backfill(game.serverId, { sessionId: game.sessionId, slots: 1 })).status).toBe(201);
      expect(fills).toEqual(["westeurope"]); // the request's own fill (nobody waits)
      const late = id("late");
      await app.eventHub("addPlayers", [request(late)]);
      expect(fills).toEqual(["westeurope", "westeurope"]);
      expect(matchMade().find((m) => m.joined?.some((p) => p.playerId === late))).toMatchObject({ sessionId: game.sessionId });
      // Filled: the request is closed, and the next batch makes no fill call again (a squad ticket, which
      // waits on: no later test's duel game takes it).
      await app.eventHub("addPlayers", [{ ...request(id("after")), mode: "squad" }]);
      expect(fills).toHaveLength(2);
    } finally {
      app.restoreStore();
    }
  });

  it("DELETE cancels, a second DELETE is 404 no_backfill, and an unknown query parameter is a 400", async () => {
    const game = await runningDuel();
    await backfill(game.serverId, { sessionId: game.sessionId, slots: 1 });
    const del = (query?: Record<string, string>) =>
      app.http("serverBackfill", {
        method: "DELETE",
        path: `/api/servers/${game.serverId}/backfill`,
        params: { serverId: game.serverId },
        ...(query ? { query } : {}),
      });
    expect((await del({ sessionId: "westeurope.999999" })).status).toBe(409);
    const ok = await del({ sessionId: game.sessionId });
    expect(ok.status).toBe(200);
    expect(checkComponent("BackfillCancelled", ok.json)).toBeUndefined();
    expect((await del()).json).toMatchObject({ error: "no_backfill" });
    expect((await del({ sesionId: "x" })).json).toMatchObject({ error: "unknown_parameter" });
    expect(
      (await app.http("serverBackfill", { method: "GET", path: `/api/servers/${game.serverId}/backfill`, params: { serverId: game.serverId } })).status,
    ).toBe(405);
  });
});
