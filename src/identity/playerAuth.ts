/**
 * Player identity (`PLAYER_AUTH=jwt`): the player's JWT, issued by any OpenID issuer (Entra External ID,
 * Auth0, Cognito, PlayFab/UGS via OIDC, the local runtime's development issuer), validated with `jose`:
 * the signature against the issuer's JWKS (fetched once, cached, re-fetched when a token names a `kid` the
 * cache does not know - which is how a key rotation at the issuer is picked up without a restart), then
 * `iss`, `aud`, `exp` and `nbf` with a clock tolerance. Only the configured asymmetric algorithms are
 * accepted: never `none`, never HMAC (an attacker would sign with the public key as the secret).
 *
 * jose 6 is an ES module only. This app compiles to CommonJS and must run on Node 20, whose `require()`
 * of ES modules is not there in every 20.x, so jose is loaded with a dynamic `import()` (which TypeScript
 * keeps as is under `module: nodenext`), once per process.
 */
import type * as JoseModule from "jose";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { ID_PATTERN } from "../domain/validation";
import type { PlayerAuthSettings } from "./settings";

type Jose = typeof JoseModule;
let josePromise: Promise<Jose> | undefined;
const loadJose = (): Promise<Jose> => (josePromise ??= import("jose"));

/** A refusal: 401 (who are you), 403 (not for you), or 503 (the issuer cannot be reached: not the player's fault). */
export class PlayerAuthError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${status} ${error}: ${detail}`);
    this.name = "PlayerAuthError";
  }

  /** RFC 6750 challenge for 401s. */
  get challenge(): string {
    return `Bearer realm="players", error="invalid_token", error_description="${this.detail.replace(/["\\]/g, "'")}"`;
  }
}

export interface VerifiedPlayer {
  playerId: string;
  claims: JWTPayload;
}

const MAX_JWT_LENGTH = 8192;
const DISCOVERY_TIMEOUT_MS = 5000;

export class PlayerTokenVerifier {
  private jwks: Promise<JWTVerifyGetKey> | undefined;

  constructor(
    private readonly s: PlayerAuthSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The player of `Authorization: Bearer <JWT>`, or a PlayerAuthError. */
  async verify(authorization: string | null | undefined): Promise<VerifiedPlayer> {
    const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m) throw new PlayerAuthError(401, "missing_token", "send the player's JWT as 'Authorization: Bearer <JWT>'");
    const token = m[1]!;
    if (token.length > MAX_JWT_LENGTH) throw new PlayerAuthError(401, "malformed_token", `the JWT is longer than ${MAX_JWT_LENGTH} characters`);
    const jose = await loadJose();
    const keys = await this.keySet(jose);
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.s.issuer,
        audience: this.s.audience,
        algorithms: this.s.algorithms,
        clockTolerance: this.s.clockToleranceSeconds,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      throw refusal(jose, err);
    }
    const playerId = payload[this.s.playerIdClaim];
    if (typeof playerId !== "string" || !ID_PATTERN.test(playerId)) {
      throw new PlayerAuthError(401, "invalid_player_claim", `the JWT's ${this.s.playerIdClaim} claim must be a playerId (1-64 of [A-Za-z0-9_-])`);
    }
    return { playerId, claims: payload };
  }

  /** The issuer's key set: PLAYER_AUTH_JWKS_URI, else its OpenID discovery document. A failure is not cached. */
  private keySet(jose: Jose): Promise<JWTVerifyGetKey> {
    if (!this.jwks) {
      const p = this.jwksUri().then((uri) =>
        jose.createRemoteJWKSet(new URL(uri), {
          cooldownDuration: this.s.jwksCooldownSeconds * 1000,
          cacheMaxAge: 10 * 60 * 1000,
          timeoutDuration: DISCOVERY_TIMEOUT_MS,
          [jose.customFetch]: this.fetchImpl,
        }),
      );
      this.jwks = p;
      p.catch(() => {
        if (this.jwks === p) this.jwks = undefined;
      });
    }
    return this.jwks;
  }

  private async jwksUri(): Promise<string> {
    if (this.s.jwksUri) return this.s.jwksUri;
    const url = `${this.s.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw unavailable(`OpenID discovery at ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    // OpenID Connect Discovery 1.0 section 4.3: the document's issuer must be exactly the one asked for.
    if (doc.issuer !== this.s.issuer) throw unavailable(`${url} names issuer ${JSON.stringify(doc.issuer)}, not ${this.s.issuer}`);
    if (typeof doc.jwks_uri !== "string") throw unavailable(`${url} has no jwks_uri`);
    return doc.jwks_uri;
  }
}

function unavailable(why: string): PlayerAuthError {
  return new PlayerAuthError(503, "identity_unavailable", `the identity provider cannot be reached to check the token (${why}); retry later`);
}

/** A jose error as the 401 (or 503) a client can act on. */
function refusal(jose: Jose, err: unknown): PlayerAuthError {
  const e = jose.errors;
  const no = (error: string, detail: string) => new PlayerAuthError(401, error, detail);
  if (err instanceof e.JWTExpired) return no("token_expired", "the JWT has expired; get a new one from the identity provider");
  if (err instanceof e.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "nbf":
        return no("token_not_yet_valid", "the JWT is not valid yet (nbf)");
      case "iat":
        return no("token_not_yet_valid", "the JWT was issued in the future (iat)");
      case "aud":
        return no("invalid_audience", "the JWT is not meant for this matchmaker (aud)");
      case "iss":
        return no("invalid_issuer", "the JWT comes from another issuer (iss)");
      default:
        return no("invalid_token", `the JWT's ${err.claim} claim is ${err.reason === "missing" ? "missing" : "invalid"}`);
    }
  }
  if (err instanceof e.JOSEAlgNotAllowed) return no("algorithm_not_allowed", "the JWT's signing algorithm (alg) is not accepted");
  if (err instanceof e.JWKSNoMatchingKey) return no("unknown_key", "the JWT is signed with a key (kid) the issuer does not publish");
  if (err instanceof e.JWKSMultipleMatchingKeys) return no("unknown_key", "the JWT names no kid and the issuer publishes several keys");
  if (err instanceof e.JWSSignatureVerificationFailed) return no("invalid_signature", "the JWT's signature does not match its content");
  if (err instanceof e.JWSInvalid || err instanceof e.JWTInvalid || err instanceof e.JOSENotSupported) {
    return no("malformed_token", "the bearer token is not a well-formed signed JWT");
  }
  // Anything else comes from fetching the key set (timeout, HTTP error, bad JSON): the issuer, not the player.
  return unavailable(err instanceof Error ? err.message : String(err));
}

const verifiers = new WeakMap<PlayerAuthSettings, PlayerTokenVerifier>();
/** One verifier (and so one JWKS cache) per settings object, i.e. per process. */
export function playerTokenVerifier(s: PlayerAuthSettings): PlayerTokenVerifier {
  let v = verifiers.get(s);
  if (!v) verifiers.set(s, (v = new PlayerTokenVerifier(s)));
  return v;
}
