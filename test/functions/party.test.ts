/**
 * Party and skill tickets through the real HTTP invocation path, the real store and the real Durable
 * engine (issue 11): validation with {error, detail}, one credential and one orchestrator per member, the
 * player-requests message with skill and party, and a member with a live ticket refused with a clear error.
 */
import { describe, expect, it } from "vitest";
import { checkComponent, checkSchema } from "../../src/usecases/schemas";
import { verifyTicketToken } from "../../src/usecases/ticketToken";
import type { PlayerRequest } from "../../src/domain/types";
import { at } from "../support/at";
import { SIGNING_KEYS, uniqueId as id, useTestApp } from "./support/app";

const RANKED = { teams: 2, teamSize: 3, maxPartySize: 3, skill: { window: 100, widen: [{ afterSeconds: 10, window: 400 }] } };
const app = useTestApp({ MATCH_MODES: JSON.stringify({ ranked: RANKED, duel: 2 }), DEFAULT_MODE: "ranked" });
const JSON_HEADERS = { "content-type": "application/json" };

interface Member {
  playerId: string;
  token: string;
  ticketUri: string;
  statusQueryGetUri: string;
}
interface Created {
  ticketId: string;
  playerId: string;
  token: string;
  members: Member[];
}

const postTicket = (body: Record<string, unknown>) =>
  app.http("tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: Buffer.from(JSON.stringify(body)) });
const getTicket = (playerId: string, token: string) =>
  app.http("ticket", { method: "GET", path: `/api/tickets/${playerId}`, params: { playerId }, headers: { authorization: `Bearer ${token}` } });

describe("party tickets", () => {
  it("a party ticket answers every member (leader first) with its own token and links, and publishes skill and party", async () => {
    const [leader, m1, m2] = [id("lead"), id("mem"), id("mem")];
    const before = app.publisher.sent.length;
    const res = await postTicket({
      playerId: leader,
      skill: 1500,
      party: [
        { playerId: m1, skill: 1520 },
        { playerId: m2, skill: 1480 },
      ],
    });
    expect(res.status).toBe(202);
    const body = res.json as Created;
    expect(checkComponent("TicketCreated", body)).toBeUndefined();
    expect(body.members.map((m) => m.playerId)).toEqual([leader, m1, m2]);
    expect(body.token).toBe(at(body.members, 0).token);
    for (const m of body.members) {
      const claims = verifyTicketToken(m.token, SIGNING_KEYS);
      // Each member's own credential, for the party's one ticket.
      expect(claims.ok && claims.claims).toMatchObject({ ticketId: body.ticketId, playerId: m.playerId, mode: "ranked" });
      expect(m.ticketUri).toBe(`http://matchmaker.test/api/tickets/${m.playerId}`);
      expect(m.statusQueryGetUri).toBe(`${m.ticketUri}/status?token=${encodeURIComponent(m.token)}`);
    }
    expect(new Set(body.members.map((m) => m.token)).size).toBe(3);
    const sent = app.publisher.sent.slice(before);
    expect(sent).toHaveLength(1);
    const msg = at(sent, 0).event.body as PlayerRequest;
    expect(checkSchema("playerRequest", msg, "message")).toBeUndefined();
    expect(msg).toMatchObject({
      ticketId: body.ticketId,
      playerId: leader,
      skill: 1500,
      party: [
        { playerId: m1, skill: 1520 },
        { playerId: m2, skill: 1480 },
      ],
    });
    // Each member reads its own ticket with its own token (still in the hub: searching), not with another's.
    for (const m of body.members) {
      const read = await getTicket(m.playerId, m.token);
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ playerId: m.playerId, ticketId: body.ticketId, status: "searching" });
    }
    expect((await getTicket(m1, at(body.members, 2).token)).status).toBe(401);
  });

  it("a solo ticket's answer lists the player alone in members", async () => {
    const playerId = id("solo");
    const res = await postTicket({ playerId, mode: "duel" });
    expect(res.status).toBe(202);
    const body = res.json as Created;
    expect(body.members).toEqual([{ playerId, token: body.token, ticketUri: expect.any(String), statusQueryGetUri: expect.any(String) }]);
  });

  it.each([
    ["skill missing in a skill mode", { skill: undefined }, "skill_required", /mode ranked matches by skill: skill is required/],
    ["a member's skill missing", { party: [{ playerId: "x-1" }] }, "skill_required", /party\[0\]\.skill is required/],
    ["skill not a number", { skill: "high" }, "invalid_skill", /skill/],
    ["skill out of range", { skill: 1e9 }, "invalid_skill", /1000000/],
    ["a party over maxPartySize", { party: ["a", "b", "c"].map((p) => ({ playerId: `x-${p}`, skill: 1 })) }, "party_too_large", /at most 3 player/],
    ["the leader listed in the party", { party: [{ playerId: "LEADER", skill: 1 }] }, "party_includes_leader", /OTHER members/],
    [
      "a member twice",
      {
        party: [
          { playerId: "x-d", skill: 1 },
          { playerId: "x-d", skill: 2 },
        ],
      },
      "party_duplicate_member",
      /x-d twice/,
    ],
    ["a bad member id", { party: [{ playerId: "a b", skill: 1 }] }, "invalid_party", /party\.0\.playerId/],
    ["an unknown member field", { party: [{ playerId: "x-e", skill: 1, level: 3 }] }, "unknown_field", /level/],
    ["party not an array", { party: { playerId: "x-f" } }, "invalid_party", /array/],
  ])("refuses %s with 400 {error, detail}", async (_name, change, error, detail) => {
    const leader = id("lead");
    const body = JSON.parse(JSON.stringify({ playerId: leader, skill: 1500, ...change }).replaceAll("LEADER", leader)) as Record<string, unknown>;
    const res = await postTicket(body);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error });
    expect((res.json as { detail: string }).detail).toMatch(detail);
    expect(checkComponent("Error", res.json)).toBeUndefined();
  });

  it("a party in a solo mode (maxPartySize 1) is refused; the number form takes no parties", async () => {
    const res = await postTicket({ playerId: id("lead"), mode: "duel", party: [{ playerId: id("mem") }] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "party_too_large" });
  });

  it("a trusted backend's player request with a bad party is dead-lettered with the reason, the rest of its batch queues", async () => {
    const good = { ticketId: id("t"), playerId: id("ok"), mode: "duel", region: "westeurope", requestedAt: new Date().toISOString() };
    const leader = id("bad");
    const bad = { ...good, mode: "ranked", skill: 1, ticketId: id("t"), playerId: leader, party: [{ playerId: leader, skill: 1 }] };
    const noSkill = { ...good, mode: "ranked", ticketId: id("t"), playerId: id("noskill") };
    await app.eventHub("addPlayers", [bad, good, noSkill]);
    expect((await (await app.store()).getPlayer("westeurope", good.playerId))?.state).toBe("waiting");
    const letters = await (await app.store()).listDeadLetters("player-requests", 10);
    expect(letters.map((l) => l.error)).toEqual(expect.arrayContaining(["party_includes_leader", "skill_required"]));
  });
});
