/**
 * PLAYER_AUTH=jwt through the real HTTP path (the library's invocation code, the real store and Durable
 * engine) with real JWTs from the development issuer, whose discovery document and JWKS the app fetches
 * over HTTP: every refusal has its 401 (or 403) with {error, detail}; a player's token works only for that
 * player; the squatting attack of issue 12 fails; a key rotation at the issuer is picked up without restart.
 */
import { describe, expect, it } from "vitest";
import { SignJWT, decodeProtectedHeader, generateKeyPair } from "jose";
import { uniqueId as id, useTestApp, deliverPlayerRequests } from "../functions/support/app";
import { useDevIssuer } from "./support/issuer";
import type { MatchMade } from "../../src/domain/types";

const issuer = useDevIssuer();
const app = useTestApp();
const JSON_HEADERS = { "content-type": "application/json" };

interface Created {
  ticketId: string;
  playerId: string;
  token: string;
}

const bearer = (jwt: string | undefined): Record<string, string> => (jwt ? { authorization: `Bearer ${jwt}` } : {});
const post = (body: Record<string, unknown>, jwt?: string) =>
  app.http("tickets", { method: "POST", path: "/api/tickets", headers: { ...JSON_HEADERS, ...bearer(jwt) }, body: JSON.stringify(body) });
const ticketCall = (method: "GET" | "DELETE", playerId: string, jwt: string | undefined, ticketToken?: string) =>
  app.http("ticket", {
    method,
    path: `/api/tickets/${playerId}`,
    params: { playerId },
    headers: { ...bearer(jwt), ...(ticketToken ? { "x-ticket-token": ticketToken } : {}) },
  });
const errorOf = (res: { status: number; json?: unknown }) => [res.status, (res.json as { error?: string } | undefined)?.error];

async function create(playerId: string, jwt: string, region?: string): Promise<Created> {
  const res = await post({ playerId, ...(region ? { region } : {}) }, jwt);
  expect(res.status, res.body.toString()).toBe(202);
  return res.json as Created;
}

describe("PLAYER_AUTH=jwt", () => {
  it("a player with a valid JWT creates, reads and cancels its own ticket", async () => {
    const alice = id("alice");
    const jwt = await issuer.token(alice);
    const t = await create(alice, jwt);
    expect(t.playerId).toBe(alice);
    expect(errorOf(await ticketCall("GET", alice, jwt, t.token))).toEqual([200, undefined]);
    expect((await ticketCall("GET", alice, jwt, t.token)).json).toMatchObject({ ticketId: t.ticketId, status: "searching" });
    const cancelled = await ticketCall("DELETE", alice, jwt, t.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "cancelled" });
    // Reading needs the JWT too: the ticket token alone is not enough any more.
    expect(errorOf(await app.http("ticket", { method: "GET", path: `/api/tickets/${alice}`, params: { playerId: alice }, headers: bearer(t.token) }))).toEqual([
      401,
      "malformed_token",
    ]);
  });

  it("refuses missing, expired, not-yet-valid, wrong-audience, wrong-issuer, unknown-kid, tampered and alg:none tokens with the right 401", async () => {
    const p = id("bob");
    const good = await issuer.token(p);
    const [h, payload, sig] = good.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    // A key the issuer never published, under a kid of its own.
    const { privateKey: stranger } = await generateKeyPair("RS256");
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "not-published" }).sign(stranger);
    const cases: [string, string | undefined, string][] = [
      ["missing", undefined, "missing_token"],
      ["expired", await issuer.token(p, { expiresInSeconds: -60 }), "token_expired"],
      ["not yet valid", await issuer.token(p, { notBeforeSeconds: 600 }), "token_not_yet_valid"],
      ["wrong audience", await issuer.token(p, { audience: "another-game" }), "invalid_audience"],
      ["wrong issuer", await issuer.issuer.sign(p, { claims: { iss: "https://evil.example/identity" } }), "invalid_issuer"],
      ["unknown kid", unknownKid, "unknown_key"],
      ["tampered payload", `${h}.${b64({ ...claims, sub: id("mallory") })}.${sig}`, "invalid_signature"],
      ["alg none", `${b64({ alg: "none", typ: "JWT" })}.${payload}.`, "algorithm_not_allowed"],
      [
        "HS256 with a guessable secret",
        await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("x".repeat(32))),
        "algorithm_not_allowed",
      ],
      ["garbage", "not.a.jwt", "malformed_token"],
    ];
    expect(decodeProtectedHeader(good).kid).toBe(issuer.issuer.currentKid);
    for (const [what, jwt, error] of cases) {
      const res = await post({ playerId: p }, jwt);
      expect([what, ...errorOf(res)]).toEqual([what, 401, error]);
      expect((res.json as { detail?: unknown }).detail, what).toEqual(expect.any(String));
      expect(res.headers["www-authenticate"], what).toMatch(/^Bearer realm="players"/);
      for (const method of ["GET", "DELETE"] as const) expect([what, method, ...errorOf(await ticketCall(method, p, jwt))]).toEqual([what, method, 401, error]);
    }
    // Nothing was published for any of them.
    expect(app.publisher.bodies("player-requests").some((m) => (m as { playerId: string }).playerId === p)).toBe(false);
    // And the good token still works.
    expect((await post({ playerId: p }, good)).status).toBe(202);
  });

  it("a valid token for player A used for player B is 403 player_mismatch, for create, read and cancel", async () => {
    const a = id("anna");
    const b = id("ben");
    const jwtA = await issuer.token(a);
    const jwtB = await issuer.token(b);
    const tb = await create(b, jwtB);
    expect(errorOf(await post({ playerId: b }, jwtA))).toEqual([403, "player_mismatch"]);
    expect(errorOf(await ticketCall("GET", b, jwtA, tb.token))).toEqual([403, "player_mismatch"]);
    expect(errorOf(await ticketCall("DELETE", b, jwtA, tb.token))).toEqual([403, "player_mismatch"]);
    const negotiate = (jwt?: string) =>
      app.http("negotiate", {
        method: "GET",
        path: `/api/tickets/${b}/negotiate`,
        params: { playerId: b },
        headers: { ...bearer(jwt), "x-ticket-token": tb.token },
      });
    expect(errorOf(await negotiate(jwtA))).toEqual([403, "player_mismatch"]);
    expect(errorOf(await negotiate())).toEqual([401, "missing_token"]);
    // B's ticket is untouched.
    expect((await ticketCall("GET", b, jwtB, tb.token)).json).toMatchObject({ ticketId: tb.ticketId, status: "searching" });
  });

  it("the squatting attack of issue 12 fails: an opponent who learned the victim's id from a match cannot re-ticket or block the victim", async () => {
    const victim = id("victim");
    const foe = id("foe");
    const serverId = id("gs");
    // Their own region, so that nobody else's waiting ticket joins this match.
    const put = await app.http("server", {
      method: "PUT",
      path: `/api/servers/${serverId}`,
      params: { serverId },
      query: { region: "eastus" },
      headers: JSON_HEADERS,
      body: JSON.stringify({ address: "10.2.0.1:30000", region: "eastus" }),
    });
    expect(put.status).toBe(201);
    const victimJwt = await issuer.token(victim);
    const foeJwt = await issuer.token(foe);
    const tv = await create(victim, victimJwt, "eastus");
    await create(foe, foeJwt, "eastus");
    await deliverPlayerRequests(app);
    const msg = (app.publisher.bodies("match-made") as MatchMade[]).find((m) => m.serverId === serverId)!;
    // The foe learns the victim's id from the match...
    expect(msg.players.map((p) => p.playerId)).toContain(victim);
    await app.eventHub("matchMade", [msg]);
    await app.waitForStatus(victim, "Completed");
    const before = app.publisher.bodies("player-requests").length;
    // ...and tries to re-ticket the victim: with its own token (403) or none (401). Nothing is published.
    expect(errorOf(await post({ playerId: victim }, foeJwt))).toEqual([403, "player_mismatch"]);
    expect(errorOf(await post({ playerId: victim }))).toEqual([401, "missing_token"]);
    expect(app.publisher.bodies("player-requests").length).toBe(before);
    // The victim still reads its match with the server address (before the fix: 404 ticket_replaced).
    const read = await ticketCall("GET", victim, victimJwt, tv.token);
    expect(read.json).toMatchObject({ ticketId: tv.ticketId, status: "matched", serverId, server: "10.2.0.1:30000" });
  });

  it("picks up a key rotation at the issuer without a restart; a retired key's tokens are refused as unknown_key", async () => {
    const p = id("rot");
    const before = await issuer.token(p);
    const t = await create(p, before);
    const fetchesBefore = issuer.fetches.get("/runtime/local/identity/jwks") ?? 0;
    // Cached: more requests with known keys fetch nothing.
    for (let i = 0; i < 3; i++) expect((await ticketCall("GET", p, before, t.token)).status).toBe(200);
    expect(issuer.fetches.get("/runtime/local/identity/jwks") ?? 0).toBe(fetchesBefore);

    const oldKid = issuer.issuer.currentKid;
    const newKid = await issuer.issuer.rotate({ retire: true });
    expect(newKid).not.toBe(oldKid);
    // The app's JWKS cache refetches on an unknown kid, at most once per cooldown (1 s here).
    await new Promise((r) => setTimeout(r, 1100));
    const after = await issuer.token(p);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    const res = await ticketCall("GET", p, after, t.token);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(issuer.fetches.get("/runtime/local/identity/jwks")).toBe(fetchesBefore + 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(errorOf(await ticketCall("GET", p, before, t.token))).toEqual([401, "unknown_key"]);
  });
});
