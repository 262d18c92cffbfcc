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
import { deliverPlayerRequests, SIGNING_KEYS, uniqueId as id, useTestApp } from "./support/app";

const RANKED = { teams: 2, teamSize: 3, maxPartySize: 3, skill: { window: 100, widen: [{ afterSeconds: 10, window: 400 }] } };
/** 1v1 by skill: players 500 apart only meet once the window widened (after 5 s of wait). */
const PAIR = { teams: 2, teamSize: 1, skill: { window: 10, widen: [{ afterSeconds: 5, window: 1000 }] } };
const app = useTestApp({ MATCH_MODES: JSON.stringify({ ranked: RANKED, duel: 2, pair: PAIR }), DEFAULT_MODE: "ranked" });
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
const cancelTicket = (playerId: string, token: string) =>
  app.http("ticket", { method: "DELETE", path: `/api/tickets/${playerId}`, params: { playerId }, headers: { authorization: `Bearer ${token}` } });
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
    const good = { ticketId: id("t"), playerId: id("ok"), mode: "ranked", region: "westeurope", requestedAt: new Date().toISOString(), skill: 1200 };
    const leader = id("bad");
    const bad = { ...good, ticketId: id("t"), playerId: leader, party: [{ playerId: leader, skill: 1 }] };
    const { skill: _skill, ...noSkill } = { ...good, ticketId: id("t"), playerId: id("noskill") };
    await app.eventHub("addPlayers", [bad, good, noSkill]);
    expect((await (await app.store()).getPlayer("westeurope", good.playerId))?.state).toBe("waiting");
    const letters = await (await app.store()).listDeadLetters("player-requests", 10);
    expect(letters.map((l) => l.error)).toEqual(expect.arrayContaining(["party_includes_leader", "skill_required"]));
  });
});

/** A party of three in the ranked mode, created and taken in by the intake. */
async function queuedParty(): Promise<Created> {
  const res = await postTicket({
    playerId: id("lead"),
    skill: 1500,
    party: [
      { playerId: id("mem"), skill: 1510 },
      { playerId: id("mem"), skill: 1490 },
    ],
  });
  expect(res.status).toBe(202);
  await deliverPlayerRequests(app);
  return res.json as Created;
}

const outputOf = async (playerId: string): Promise<Record<string, unknown>> => {
  const rec = await app.waitForStatus(playerId, "Completed");
  return (typeof rec.output === "string" ? JSON.parse(rec.output) : rec.output) as Record<string, unknown>;
};

describe("party tickets in the store", () => {
  it("the intake starts one orchestrator per member on the party's ticket; each member waits in the store; a member cannot start another ticket", async () => {
    const party = await queuedParty();
    const store = await app.store();
    for (const m of party.members) {
      const status = await app.engine.getStatus(m.playerId);
      expect(["Pending", "Running"]).toContain(status?.runtimeStatus);
      const input: unknown = typeof status?.input === "string" ? JSON.parse(status.input) : status?.input;
      expect(input).toMatchObject({ ticketId: party.ticketId, playerId: m.playerId, mode: "ranked" });
      const view = await store.getPlayer("westeurope", m.playerId);
      expect(view).toMatchObject({ state: "waiting", ticketId: party.ticketId, party: party.members.map((x) => x.playerId) });
      const read = await getTicket(m.playerId, m.token);
      expect(read.json).toMatchObject({ status: "searching", party: party.members.map((x) => x.playerId) });
      expect(checkComponent("Ticket", read.json)).toBeUndefined();
    }
    const member = at(party.members, 2).playerId;
    const again = await postTicket({ playerId: id("other"), skill: 1400, party: [{ playerId: member, skill: 1400 }] });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: "party_member_live", member });
    expect((again.json as { detail: string }).detail).toContain(member);
    const alone = await postTicket({ playerId: member, skill: 1400 });
    expect(alone.status).toBe(409);
    expect(alone.json).toMatchObject({ error: "ticket_exists", ticket: { ticketId: party.ticketId } });
  });

  it("a cancel by any member cancels the party's ticket for all: every member's orchestration ends cancelled and the store frees them", async () => {
    const party = await queuedParty();
    const [leader, m1, m2] = party.members as [Member, Member, Member];
    const res = await cancelTicket(m1.playerId, m1.token);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ playerId: m1.playerId, status: "cancelled" });
    for (const m of [leader, m1, m2]) {
      expect(await outputOf(m.playerId)).toMatchObject({ status: "cancelled", ticketId: party.ticketId });
      expect((await getTicket(m.playerId, m.token)).json).toMatchObject({ status: "cancelled" });
      expect((await (await app.store()).getPlayer("westeurope", m.playerId))?.state).toBe("left");
    }
    // The leader may queue again at once: nobody of the party is live any more.
    const again = await postTicket({ playerId: leader.playerId, skill: 1500, party: [{ playerId: m2.playerId, skill: 1500 }] });
    expect(again.status).toBe(202);
  });

  it("a member that got a live ticket between the request and the intake: the store refuses the party and every member's ticket says why", async () => {
    const [leader, member] = [id("lead"), id("mem")];
    const res = await postTicket({ playerId: leader, skill: 1500, party: [{ playerId: member, skill: 1500 }] });
    expect(res.status).toBe(202);
    const created = res.json as Created;
    // The member queues alone first (its own request reaches the intake before the party's).
    const solo = await postTicket({ playerId: member, skill: 1500 });
    expect(solo.status).toBe(202);
    const pending = app.publisher.sent.filter((x) => x.hubName === "player-requests");
    const soloMsg = pending.find((x) => (x.event.body as PlayerRequest).ticketId === (solo.json as Created).ticketId)!;
    const partyMsg = pending.find((x) => (x.event.body as PlayerRequest).ticketId === created.ticketId)!;
    for (const x of pending) (x as { delivered?: boolean }).delivered = true;
    await app.eventHub("addPlayers", [soloMsg.event.body]);
    await app.eventHub("addPlayers", [partyMsg.event.body]);
    const leaderOut = await outputOf(leader);
    expect(leaderOut).toMatchObject({ status: "cancelled", refusal: { error: "party_member_live" } });
    expect(JSON.stringify(leaderOut.refusal)).toContain(member);
    const read = await getTicket(leader, created.token);
    expect(read.json).toMatchObject({ status: "cancelled", refusal: { detail: expect.stringContaining(member) } });
    // The member's own solo ticket is untouched.
    expect(await (await app.store()).getPlayer("westeurope", member)).toMatchObject({ state: "waiting", ticketId: (solo.json as Created).ticketId });
  });

  it("the sweep timer regroups under the widened window: two players too far apart to meet at first are matched once it widened, with teams and quality", async () => {
    const [low, high] = [id("low"), id("high")];
    const a = (await postTicket({ playerId: low, mode: "pair", skill: 1000 })).json as Created;
    const b = (await postTicket({ playerId: high, mode: "pair", skill: 1500 })).json as Created;
    await deliverPlayerRequests(app);
    await app.timer("assignSessions");
    // Window 10: apart.
    expect((await getTicket(low, a.token)).json).toMatchObject({ status: "searching" });
    // Past the widen step (the store's clock), the sweep regroups them into one session and assigns it
    // (servers enough for it and any session the other tests of this file filled).
    for (let i = 0; i < 3; i++) {
      const serverId = id("srv");
      const address = `10.1.${Math.floor(Math.random() * 250) + 1}.${i + 1}:7777`;
      const reg = await app.http("server", {
        method: "PUT",
        path: `/api/servers/${serverId}`,
        params: { serverId },
        headers: JSON_HEADERS,
        body: JSON.stringify({ address }),
      });
      expect(reg.status).toBe(201);
    }
    app.advanceStoreClock(6000);
    await app.timer("assignSessions");
    const made = app.publisher.sent.filter((x) => x.hubName === "match-made").map((x) => x.event.body as Record<string, unknown>);
    const theirs = made.find((m) => JSON.stringify(m.players).includes(low));
    expect(theirs).toBeDefined();
    expect(checkSchema("matchMade", theirs, "m")).toBeUndefined();
    expect(theirs).toMatchObject({ mode: "pair", quality: { skillSpread: 500 } });
    expect((theirs!.teams as { players: string[] }[]).map((t) => t.players).sort()).toEqual([[high], [low]]);
    expect((theirs!.quality as { waitSeconds: number }).waitSeconds).toBeGreaterThanOrEqual(5);
    await app.eventHub("matchMade", [theirs]);
    const out = await outputOf(low);
    expect(out).toMatchObject({ status: "matched", team: expect.any(Number), quality: { skillSpread: 500 } });
    const read = (await getTicket(high, b.token)).json as { status: string; team: number; teams: { players: string[] }[] };
    expect(read.status).toBe("matched");
    expect(read.teams[read.team]!.players).toEqual([high]);
  });
});
