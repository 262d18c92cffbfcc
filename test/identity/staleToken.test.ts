/**
 * A stale ticket token can never touch a newer ticket (issue 9, Security). Before the fix: once the old
 * ticket's redelivery guard had expired (it lives for the ticket retention), the store took a DELETE with the
 * old token for "a leave that overtook its request", answered 200, and reset the player's record - which
 * removed the player from the session of its CURRENT, matched ticket.
 */
import { describe, expect, it } from "vitest";
import { uniqueId as id, useTestApp, deliverPlayerRequests } from "../functions/support/app";
import type { MatchMade } from "../../src/domain/types";
import type { RedisConnection } from "../../src/store/connection";

const app = useTestApp();
const JSON_HEADERS = { "content-type": "application/json" };

interface Created {
  ticketId: string;
  token: string;
}

async function createTicket(playerId: string): Promise<Created> {
  const res = await app.http("tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: JSON.stringify({ playerId }) });
  expect(res.status, res.body.toString()).toBe(202);
  return res.json as Created;
}

const ticketCall = (method: "GET" | "DELETE", playerId: string, token: string) =>
  app.http("ticket", { method, path: `/api/tickets/${playerId}`, params: { playerId }, headers: { authorization: `Bearer ${token}` } });

async function matchOn(serverId: string, address: string, players: string[]): Promise<Created[]> {
  const put = await app.http("server", {
    method: "PUT",
    path: `/api/servers/${serverId}`,
    params: { serverId },
    headers: JSON_HEADERS,
    body: JSON.stringify({ address }),
  });
  expect(put.status).toBe(201);
  const tickets = [];
  for (const p of players) tickets.push(await createTicket(p));
  await deliverPlayerRequests(app);
  const msg = (app.publisher.bodies("match-made") as MatchMade[]).find((m) => m.serverId === serverId);
  expect(msg, `a match on ${serverId}`).toBeDefined();
  await app.eventHub("matchMade", [msg]);
  for (const p of players) await app.waitForStatus(p, "Completed");
  return tickets;
}

describe("a stale ticket token", () => {
  it("cannot cancel, or remove the player from, the player's newer matched ticket once the player's record forgot the old ticket", async () => {
    const victim = id("victim");
    const [old] = await matchOn(id("gs"), "10.1.0.1:30000", [victim, id("foe")]);
    const second = id("gs");
    const [current] = await matchOn(second, "10.1.0.2:30000", [victim, id("mate")]);
    // The player's record is the redelivery guard; make it forget the first ticket (as after several newer
    // ones): only the tickets' request times tell the old one apart now.
    const record = `${app.prefix}:{westeurope}:Player:${victim}`;
    const st = (await app.store()) as unknown as { redis: RedisConnection };
    await st.redis.command(record, ["HDEL", record, "seen"]);
    expect(await st.redis.command(record, ["HEXISTS", record, "seen"])).toBe(0);
    expect((await ticketCall("GET", victim, current!.token)).json).toMatchObject({ status: "matched", serverId: second });

    const stale = await ticketCall("DELETE", victim, old!.token);
    expect([stale.status, (stale.json as { error?: string }).error]).toEqual([409, "ticket_replaced"]);
    // The current ticket is untouched: still matched, still a member of its session.
    expect((await ticketCall("GET", victim, current!.token)).json).toMatchObject({ status: "matched", serverId: second, ticketId: current!.ticketId });
    const view = await (await app.store()).getPlayer("westeurope", victim);
    expect(view).toMatchObject({ state: "matched", ticketId: current!.ticketId, serverId: second });
    expect(view?.players?.map((p) => p.playerId)).toContain(victim);
  });
});
