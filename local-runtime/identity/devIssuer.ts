/**
 * The local runtime's development identity issuer: a minimal OpenID provider, so that `PLAYER_AUTH=jwt`
 * runs the production validation code (src/identity/playerAuth.ts: OpenID discovery, JWKS, jwtVerify)
 * unchanged on a developer's machine. DEVELOPMENT ONLY: it signs a token for any playerId it is asked for.
 *
 * Under `<base>/runtime/local/identity`:
 * - `GET  /.well-known/openid-configuration`  discovery document (issuer, jwks_uri, token_endpoint)
 * - `GET  /jwks`                               the public keys (current first, then the ones rotated out but still published)
 * - `POST /token {playerId, audience?, expiresInSeconds?, notBeforeSeconds?}` → `{token, token_type, expires_in}`;
 *   `expiresInSeconds` may be negative and `notBeforeSeconds` positive, so tests can get expired and
 *   not-yet-valid tokens signed by the real key
 * - `POST /rotate {retire?: boolean}` → `{kid}`: a new signing key; the old one stays in the JWKS unless
 *   `retire` (tokens it signed then fail with `unknown_key`)
 *
 * Keys are RS256 (what Entra ID and most providers use), kept in memory; with `stateFile` they are also
 * written there, so tokens stay valid across a restart of `npm start`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import type * as JoseModule from "jose";
import type { JWK, CryptoKey } from "jose";

type Jose = typeof JoseModule;
const loadJose = (): Promise<Jose> => import("jose");

export const IDENTITY_PATH = "/runtime/local/identity";
export const DEFAULT_DEV_AUDIENCE = "matchmaker-local";
const ALG = "RS256";
const PLAYER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface LocalRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
}
export interface LocalResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  privateKey?: CryptoKey;
}

export interface DevelopmentIssuerOptions {
  /** The issuer URL (`iss`): `<base URL>/runtime/local/identity`. */
  issuer: string;
  /** Default `aud` of issued tokens. */
  audience?: string;
  /** Default lifetime of issued tokens. */
  lifetimeSeconds?: number;
  /** Where keys are kept across restarts; none: in memory only. */
  stateFile?: string;
}

export class DevelopmentIssuer {
  readonly issuer: string;
  readonly audience: string;
  private readonly lifetimeSeconds: number;
  private keys: SigningKey[] = [];
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: DevelopmentIssuerOptions) {
    this.issuer = opts.issuer.replace(/\/+$/, "");
    this.audience = opts.audience ?? DEFAULT_DEV_AUDIENCE;
    this.lifetimeSeconds = opts.lifetimeSeconds ?? 3600;
  }

  get currentKid(): string | undefined {
    return this.keys[0]?.kid;
  }

  /** Loads the kept keys, or makes the first one. */
  start(): Promise<void> {
    return (this.ready ??= (async () => {
      if (this.opts.stateFile) {
        try {
          const saved = JSON.parse(readFileSync(this.opts.stateFile, "utf8")) as { keys?: SigningKey[] };
          if (Array.isArray(saved.keys) && saved.keys.length) this.keys = saved.keys.map(({ kid, privateJwk, publicJwk }) => ({ kid, privateJwk, publicJwk }));
        } catch {
          // No state yet (or unreadable): start with a fresh key.
        }
      }
      if (this.keys.length === 0) await this.rotate();
    })());
  }

  /** A new signing key. The previous keys stay published (tokens they signed keep working) unless `retire`. */
  async rotate(o: { retire?: boolean } = {}): Promise<string> {
    const jose = await loadJose();
    const { privateKey, publicKey } = await jose.generateKeyPair(ALG, { extractable: true });
    const kid = `dev-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomUUID().slice(0, 8)}`;
    const meta = { kid, alg: ALG, use: "sig" };
    const key: SigningKey = {
      kid,
      privateKey,
      privateJwk: { ...(await jose.exportJWK(privateKey)), ...meta },
      publicJwk: { ...(await jose.exportJWK(publicKey)), ...meta },
    };
    this.keys = o.retire ? [key] : [key, ...this.keys].slice(0, 5);
    this.save();
    return kid;
  }

  /** Signs a token with the current key. `claims` may override anything (tests: wrong aud, iss...). */
  async sign(
    playerId: string,
    o: { audience?: string; expiresInSeconds?: number; notBeforeSeconds?: number; claims?: Record<string, unknown> } = {},
  ): Promise<string> {
    await this.start();
    const jose = await loadJose();
    const key = this.keys[0]!;
    key.privateKey ??= (await jose.importJWK(key.privateJwk, ALG)) as CryptoKey;
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: this.issuer,
      sub: playerId,
      aud: o.audience ?? this.audience,
      iat: now,
      exp: now + (o.expiresInSeconds ?? this.lifetimeSeconds),
      jti: randomUUID(),
      ...(o.notBeforeSeconds ? { nbf: now + o.notBeforeSeconds } : {}),
      // Explicit claims win over the defaults above (a test's wrong `iss`, say).
      ...o.claims,
    };
    return new jose.SignJWT(payload).setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
  }

  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/jwks`,
      token_endpoint: `${this.issuer}/token`,
      response_types_supported: ["token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [ALG],
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Serves a request under IDENTITY_PATH; undefined for any other path. */
  async handle(req: LocalRequest): Promise<LocalResponse | undefined> {
    const path = req.url.pathname;
    if (path !== IDENTITY_PATH && !path.startsWith(`${IDENTITY_PATH}/`)) return undefined;
    await this.start();
    const rest = path.slice(IDENTITY_PATH.length);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): LocalResponse => ({
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
      body,
    });
    const route = `${req.method.toUpperCase()} ${rest}`;
    switch (route) {
      case "GET /.well-known/openid-configuration":
        return json(200, this.discovery());
      case "GET /jwks":
        return json(200, this.jwks());
      case "POST /token": {
        const body = parseBody(req.body);
        if (!body || typeof body.playerId !== "string" || !PLAYER_ID.test(body.playerId)) {
          return json(400, { error: "invalid_playerId", detail: "send {playerId} (1-64 of [A-Za-z0-9_-])" });
        }
        const expiresIn = body.expiresInSeconds ?? this.lifetimeSeconds;
        const notBefore = body.notBeforeSeconds ?? 0;
        if (
          !Number.isInteger(expiresIn) ||
          Math.abs(expiresIn as number) > 86400 ||
          !Number.isInteger(notBefore) ||
          (notBefore as number) < 0 ||
          (notBefore as number) > 86400
        ) {
          return json(400, { error: "invalid_lifetime", detail: "expiresInSeconds: integer -86400..86400; notBeforeSeconds: integer 0..86400" });
        }
        if (body.audience !== undefined && (typeof body.audience !== "string" || body.audience.length > 200)) {
          return json(400, { error: "invalid_audience", detail: "audience must be a string" });
        }
        const token = await this.sign(body.playerId, {
          audience: body.audience as string | undefined,
          expiresInSeconds: expiresIn as number,
          notBeforeSeconds: notBefore as number,
        });
        return json(200, { token, access_token: token, token_type: "Bearer", expires_in: expiresIn });
      }
      case "POST /rotate": {
        const body = parseBody(req.body) ?? {};
        return json(200, { kid: await this.rotate({ retire: body.retire === true }) });
      }
      default:
        return json(404, { error: "not_found", detail: `the development issuer has no ${route}` });
    }
  }

  private save(): void {
    if (!this.opts.stateFile) return;
    mkdirSync(dirname(this.opts.stateFile), { recursive: true });
    const keys = this.keys.map(({ kid, privateJwk, publicJwk }) => ({ kid, privateJwk, publicJwk }));
    // Written aside and renamed: another runtime reading the file never sees half of it.
    const aside = `${this.opts.stateFile}.${process.pid}.${randomUUID().slice(0, 8)}`;
    writeFileSync(aside, JSON.stringify({ keys }), { mode: 0o600 });
    renameSync(aside, this.opts.stateFile);
  }
}

function parseBody(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (!body?.length) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
