/**
 * `npm start` with PLAYER_AUTH=jwt and no issuer of its own: the local runtime serves the development
 * issuer on its own origin (port 0 here: the runtime binds its port before the app loads, so the issuer's
 * `iss` is known to the app's settings), and the app validates those tokens with its production code
 * (OpenID discovery over HTTP, the JWKS, jose). Everything below goes through the runtime's HTTP server.
 */
import { describe, expect, it } from "vitest";
import { SignJWT, generateKeyPair } from "jose";
import { api, matchSettings, useApp } from "../e2e/harness";
import { banner } from "../../local-runtime/host/banner";
import { findMatch } from "../../client/index";

// "pair" is for findMatch alone: the other tests leave duel tickets waiting.
const app = useApp({ ...matchSettings({ duel: 2, pair: 2 }, ["westeurope"], 30), PLAYER_AUTH: "jwt" });
const ISSUER_PATH = "/runtime/local/identity";

async function tokenFor(playerId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api(app()).call("POST", `${ISSUER_PATH}/token`, { playerId, ...extra });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return (r.json as { token: string }).token;
}

const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

describe("the development issuer under npm start", () => {
  it("serves OpenID discovery and a JWKS whose issuer is the runtime's own origin, and says so in the banner", async () => {
    const issuer = `${app().baseUrl}${ISSUER_PATH}`;
    const discovery = await api(app()).call("GET", `${ISSUER_PATH}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(discovery.json).toMatchObject({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` });
    const jwks = await api(app()).call("GET", `${ISSUER_PATH}/jwks`);
    expect((jwks.json as { keys: { kid: string; alg: string }[] }).keys[0]).toMatchObject({ alg: "RS256", kid: expect.any(String) });
    expect(process.env.PLAYER_AUTH_ISSUER).toBe(issuer);
    expect(app().identity.issuer?.issuer).toBe(issuer);
    const text = banner(app());
    expect(text).toContain(`player auth: PLAYER_AUTH=jwt, tokens of the local development issuer ${issuer}`);
    expect(text).toContain(`POST ${issuer}/token`);
  });

  it("a token from the issuer creates, reads and cancels the player's own ticket", async () => {
    const jwt = await tokenFor("dev-alice");
    const created = await api(app()).call("POST", "/api/tickets", { playerId: "dev-alice" }, bearer(jwt));
    expect(created.status, JSON.stringify(created.json)).toBe(202);
    const ticket = created.json as { token: string; ticketId: string };
    const read = await api(app()).call("GET", "/api/tickets/dev-alice", undefined, { ...bearer(jwt), "X-Ticket-Token": ticket.token });
    expect(read.status, JSON.stringify(read.json)).toBe(200);
    expect(read.json).toMatchObject({ ticketId: ticket.ticketId, status: "searching" });
    const cancelled = await api(app()).call("DELETE", "/api/tickets/dev-alice", undefined, { ...bearer(jwt), "X-Ticket-Token": ticket.token });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "cancelled" });
  });

  it("a token of another player is 403 player_mismatch, also for reading a ticket", async () => {
    const bobJwt = await tokenFor("dev-bob");
    const mallory = await tokenFor("dev-mallory");
    const squat = await api(app()).call("POST", "/api/tickets", { playerId: "dev-bob" }, bearer(mallory));
    expect([squat.status, squat.json.error]).toEqual([403, "player_mismatch"]);
    const bob = (await api(app()).call("POST", "/api/tickets", { playerId: "dev-bob" }, bearer(bobJwt))).json as { token: string };
    const peek = await api(app()).call("GET", "/api/tickets/dev-bob", undefined, { ...bearer(mallory), "X-Ticket-Token": bob.token });
    expect([peek.status, peek.json.error]).toEqual([403, "player_mismatch"]);
  });

  it("negotiates push with the player's JWT alone (before any ticket), never for another player", async () => {
    const jwt = await tokenFor("dev-early");
    const mine = await api(app()).call("GET", "/api/tickets/dev-early/negotiate", undefined, bearer(jwt));
    expect(mine.status, JSON.stringify(mine.json)).toBe(200);
    expect(mine.json.url).toMatch(/\/client\/hubs\/matchmaking\?access_token=/);
    const theirs = await api(app()).call("GET", "/api/tickets/dev-other/negotiate", undefined, bearer(jwt));
    expect([theirs.status, theirs.json.error]).toEqual([403, "player_mismatch"]);
    expect((await api(app()).call("GET", "/api/tickets/dev-early/negotiate")).status).toBe(401);
  });

  it("findMatch with a player JWT listens before it asks, so the match arrives by push with no status read", async () => {
    const key = { "x-functions-key": app().keys.functionKeys[0]! };
    expect((await api(app()).call("PUT", "/api/servers/gs-jwt", { address: "10.9.0.1:7777" }, key)).status).toBe(201);
    const [a, b] = await Promise.all(
      ["dev-fm-a", "dev-fm-b"].map(async (playerId) =>
        findMatch({ baseUrl: app().baseUrl, playerId, mode: "pair", headers: { Authorization: `Bearer ${await tokenFor(playerId)}` } }),
      ),
    );
    for (const o of [a!, b!]) {
      expect(o).toMatchObject({ status: "matched", via: "push", statusReads: 0, pushConnected: true, ticket: { server: "10.9.0.1:7777" } });
    }
    expect(a!.ticket.sessionId).toBe(b!.ticket.sessionId);
  });

  it("forged, expired and missing tokens are 401", async () => {
    const expired = await tokenFor("dev-carol", { expiresInSeconds: -3600 });
    const r1 = await api(app()).call("POST", "/api/tickets", { playerId: "dev-carol" }, bearer(expired));
    expect([r1.status, r1.json.error]).toEqual([401, "token_expired"]);
    expect(r1.headers.get("www-authenticate")).toMatch(/^Bearer /);
    // Signed by a key of the attacker's, under the issuer's own kid and iss.
    const { privateKey } = await generateKeyPair("RS256");
    const kid = app().identity.issuer!.currentKid!;
    const forged = await new SignJWT({ sub: "dev-carol", aud: app().identity.issuer!.audience })
      .setProtectedHeader({ alg: "RS256", kid })
      .setIssuer(app().identity.issuer!.issuer)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(privateKey);
    const r2 = await api(app()).call("POST", "/api/tickets", { playerId: "dev-carol" }, bearer(forged));
    expect([r2.status, r2.json.error]).toEqual([401, "invalid_signature"]);
    const r3 = await api(app()).call("POST", "/api/tickets", { playerId: "dev-carol" });
    expect([r3.status, r3.json.error]).toEqual([401, "missing_token"]);
  });

  it("refuses a bad token request with 400 and an unknown issuer path with 404", async () => {
    const bad = await api(app()).call("POST", `${ISSUER_PATH}/token`, { playerId: "not a player id" });
    expect([bad.status, bad.json.error]).toEqual([400, "invalid_playerId"]);
    const none = await api(app()).call("GET", `${ISSUER_PATH}/nothing`);
    expect(none.status).toBe(404);
  });
});
