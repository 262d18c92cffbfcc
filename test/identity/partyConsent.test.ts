/**
 * Party consent (issue 12) through the real HTTP path, the real Durable engine and the store, with real JWTs
 * from the development issuer: with PLAYER_AUTH=jwt a party ticket queues only once every member has
 * accepted it with its own JWT (waitingForPlayers → searching), and it expires without queueing anyone
 * when a member does not.
 */
import { describe, expect, it } from "vitest";
import type { MatchMade, PlayerRequest } from "../../src/domain/types";
import { checkComponent } from "../../src/usecases/schemas";
import { deliverPlayerRequests, uniqueId as id, useTestApp } from "../functions/support/app";
import { useDevIssuer } from "./support/issuer";

const issuer = useDevIssuer();
const CONSENT_SECONDS = 3;
const app = useTestApp({
  MATCH_MODES: JSON.stringify({ duo: { teamSize: 2, maxPartySize: 2 } }),
  DEFAULT_MODE: "duo",
  MATCH_TIMEOUT_SECONDS: String(CONSENT_SECONDS),
});

interface Created {
  ticketId: string;
  status?: string;
  members: { playerId: string; token: string }[];
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const post = async (body: Record<string, unknown>, jwt: string) =>
  app.http("tickets", { method: "POST", path: "/api/tickets", headers: { "content-type": "application/json", ...bearer(jwt) }, body: JSON.stringify(body) });
const read = (playerId: string, jwt: string, token: string) =>
  app.http("ticket", { method: "GET", path: `/api/tickets/${playerId}`, params: { playerId }, headers: { ...bearer(jwt), "x-ticket-token": token } });
const accept = (playerId: string, jwt: string, token: string) =>
  app.http("ticketAccept", {
    method: "POST",
    path: `/api/tickets/${playerId}/accept`,
    params: { playerId },
    headers: { ...bearer(jwt), "x-ticket-token": token },
  });
const requestsFor = (ticketId: string) =>
  app.publisher.sent.filter((x) => x.hubName === "player-requests" && (x.event.body as PlayerRequest).ticketId === ticketId);
const outputOf = async (instanceId: string): Promise<Record<string, unknown>> => {
  const rec = await app.waitForStatus(instanceId, "Completed");
  return (typeof rec.output === "string" ? JSON.parse(rec.output) : rec.output) as Record<string, unknown>;
};

describe("party consent with PLAYER_AUTH=jwt", () => {
  it("a party whose member never accepts waits for players, then expires without queueing anyone", async () => {
    const [leader, member] = [id("lead"), id("mem")];
    const [leaderJwt, memberJwt] = [await issuer.token(leader), await issuer.token(member)];
    const res = await post({ playerId: leader, party: [{ playerId: member }] }, leaderJwt);
    expect(res.status).toBe(202);
    const created = res.json as Created;
    expect(created.status).toBe("waitingForPlayers");
    expect(checkComponent("TicketCreated", created)).toBeUndefined();
    const [leaderToken, memberToken] = created.members.map((m) => m.token) as [string, string];
    expect(requestsFor(created.ticketId)).toHaveLength(0);
    const waiting = await read(leader, leaderJwt, leaderToken);
    expect(waiting.json).toMatchObject({ status: "waitingForPlayers", pending: [member] });
    expect(checkComponent("Ticket", waiting.json)).toBeUndefined();
    expect((await read(member, memberJwt, memberToken)).json).toMatchObject({ status: "waitingForPlayers" });

    expect(await outputOf(`consent-${created.ticketId}`)).toMatchObject({ status: "expired", pending: [member] });
    const expired = await read(leader, leaderJwt, leaderToken);
    expect(expired.json).toMatchObject({ status: "timedOut", refusal: { error: "party_not_accepted" } });
    expect((expired.json as { refusal: { detail: string } }).refusal.detail).toContain(member);
    // Nobody was queued: no request, no store record, no matchRequest orchestration.
    expect(requestsFor(created.ticketId)).toHaveLength(0);
    expect(await (await app.store()).getPlayer("westeurope", leader)).toBeNull();
    expect(await app.engine.getStatus(leader)).toBeFalsy();
    // Too late to accept.
    const late = await accept(member, memberJwt, memberToken);
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ error: "consent_closed" });
  });

  it("a party every member accepted with its own JWT queues and matches whole; another player's JWT cannot accept for a member", async () => {
    const serverId = id("srv");
    const reg = await app.http("server", {
      method: "PUT",
      path: `/api/servers/${serverId}`,
      params: { serverId },
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: `10.3.${Math.floor(Math.random() * 250) + 1}.9:7777` }),
    });
    expect(reg.status).toBe(201);
    const [leader, member] = [id("lead"), id("mem")];
    const [leaderJwt, memberJwt] = [await issuer.token(leader), await issuer.token(member)];
    const created = (await post({ playerId: leader, party: [{ playerId: member }] }, leaderJwt)).json as Created;
    const [leaderToken, memberToken] = created.members.map((m) => m.token) as [string, string];

    // The leader's JWT does not make the member's consent.
    const forged = await accept(member, leaderJwt, memberToken);
    expect(forged.status).toBe(403);
    expect(forged.json).toMatchObject({ error: "player_mismatch" });
    expect(requestsFor(created.ticketId)).toHaveLength(0);

    const ok = await accept(member, memberJwt, memberToken);
    expect(ok.status).toBe(202);
    expect(ok.json).toMatchObject({ playerId: member, ticketId: created.ticketId, pending: [] });
    expect(await outputOf(`consent-${created.ticketId}`)).toMatchObject({ status: "accepted" });
    const sent = requestsFor(created.ticketId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.event.body).toMatchObject({ playerId: leader, party: [{ playerId: member }] });

    await deliverPlayerRequests(app);
    const made = app.publisher.sent.filter((x) => x.hubName === "match-made").map((x) => x.event.body as MatchMade);
    const theirs = made.find((m) => m.players.some((p) => p.playerId === leader));
    expect(theirs?.players.map((p) => p.playerId).sort()).toEqual([leader, member].sort());
    await app.eventHub("matchMade", [theirs]);
    for (const [p, jwt, token] of [
      [leader, leaderJwt, leaderToken],
      [member, memberJwt, memberToken],
    ] as const) {
      expect(await outputOf(p)).toMatchObject({ status: "matched", sessionId: theirs!.sessionId });
      expect((await read(p, jwt, token)).json).toMatchObject({ status: "matched", serverId });
    }
  });
});
