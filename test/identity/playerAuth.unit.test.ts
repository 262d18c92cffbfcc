/**
 * The JWT verifier against the development issuer, called directly: OpenID discovery (issuer must match,
 * failures are 503 and not cached), PLAYER_AUTH_JWKS_URI skipping discovery, and PLAYER_ID_CLAIM.
 */
import { describe, expect, it } from "vitest";
import { PlayerAuthError, PlayerTokenVerifier } from "../../src/identity/playerAuth";
import type { PlayerAuthSettings } from "../../src/identity/settings";
import { DevelopmentIssuer } from "../../local-runtime/identity/devIssuer";

const ISSUER = "http://issuer.test/runtime/local/identity";

function settings(o: Partial<PlayerAuthSettings> = {}): PlayerAuthSettings {
  return {
    mode: "jwt",
    issuer: ISSUER,
    audience: "aud-1",
    jwksUri: "",
    playerIdClaim: "sub",
    algorithms: ["RS256"],
    clockToleranceSeconds: 5,
    jwksCooldownSeconds: 30,
    ...o,
  };
}

/** fetch served by the issuer in process; `broken` paths answer 500 (or throw, for "down"). */
function fetchVia(issuer: DevelopmentIssuer, seen: string[], broken: { path?: string; down?: boolean } = {}): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(input instanceof Request ? input.url : input);
    seen.push(url.pathname);
    if (broken.down) throw new TypeError("fetch failed (ECONNREFUSED)");
    if (broken.path === url.pathname) return new Response("oops", { status: 500 });
    const r = await issuer.handle({ method: "GET", url, headers: {} });
    return new Response(JSON.stringify(r?.body), { status: r?.status ?? 404, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

async function refusal(p: Promise<unknown>): Promise<[number, string]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlayerAuthError);
  return [(err as PlayerAuthError).status, (err as PlayerAuthError).error];
}

describe("PlayerTokenVerifier", () => {
  it("discovers the JWKS from the issuer, caches it, and reads the player from PLAYER_ID_CLAIM", async () => {
    const issuer = new DevelopmentIssuer({ issuer: ISSUER, audience: "aud-1" });
    const seen: string[] = [];
    const v = new PlayerTokenVerifier(settings({ playerIdClaim: "oid" }), fetchVia(issuer, seen));
    const jwt = await issuer.sign("subject-1", { claims: { oid: "player-7" } });
    for (let i = 0; i < 3; i++) expect((await v.verify(`Bearer ${jwt}`)).playerId).toBe("player-7");
    expect(seen).toEqual(["/runtime/local/identity/.well-known/openid-configuration", "/runtime/local/identity/jwks"]);
    // A claim that is no playerId is refused.
    expect(await refusal(v.verify(`Bearer ${await issuer.sign("s", { claims: { oid: "has space" } })}`))).toEqual([401, "invalid_player_claim"]);
  });

  it("an unreachable or inconsistent issuer is 503 identity_unavailable (not the player's fault), and is retried", async () => {
    const issuer = new DevelopmentIssuer({ issuer: ISSUER, audience: "aud-1" });
    const jwt = `Bearer ${await issuer.sign("p1")}`;
    const seen: string[] = [];
    const broken: { path?: string; down?: boolean } = { down: true };
    const v = new PlayerTokenVerifier(settings(), fetchVia(issuer, seen, broken));
    expect(await refusal(v.verify(jwt))).toEqual([503, "identity_unavailable"]);
    broken.down = false;
    broken.path = "/runtime/local/identity/.well-known/openid-configuration";
    expect(await refusal(v.verify(jwt))).toEqual([503, "identity_unavailable"]);
    broken.path = undefined;
    expect((await v.verify(jwt)).playerId).toBe("p1");

    // Discovery must name the issuer that was asked for (OpenID Connect Discovery 4.3).
    const impostor = new DevelopmentIssuer({ issuer: "http://elsewhere.test/identity", audience: "aud-1" });
    const w = new PlayerTokenVerifier(settings(), fetchVia(impostor, []));
    expect(await refusal(w.verify(jwt))).toEqual([503, "identity_unavailable"]);
  });

  it("PLAYER_AUTH_JWKS_URI skips discovery; a failing JWKS is 503", async () => {
    const issuer = new DevelopmentIssuer({ issuer: ISSUER, audience: "aud-1" });
    const jwt = `Bearer ${await issuer.sign("p2")}`;
    const seen: string[] = [];
    const v = new PlayerTokenVerifier(settings({ jwksUri: `${ISSUER}/jwks` }), fetchVia(issuer, seen));
    expect((await v.verify(jwt)).playerId).toBe("p2");
    expect(seen).toEqual(["/runtime/local/identity/jwks"]);
    const down = new PlayerTokenVerifier(settings({ jwksUri: `${ISSUER}/jwks` }), fetchVia(issuer, [], { path: "/runtime/local/identity/jwks" }));
    expect(await refusal(down.verify(jwt))).toEqual([503, "identity_unavailable"]);
  });
});
