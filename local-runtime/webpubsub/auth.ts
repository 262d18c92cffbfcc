/**
 * The two access checks of Azure Web PubSub with access-key auth, as the SDKs produce them:
 *
 * - service REST calls carry `Authorization: Bearer <JWT>`, HS256 signed with the access key, whose `aud`
 *   is the request URL (@azure/web-pubsub, webPubSubKeyCredentialPolicy: `jwt.sign({}, key, {audience:
 *   request.url, expiresIn: "1h", algorithm: "HS256"})`);
 * - client connections carry `?access_token=<JWT>` (or the Authorization header), HS256 signed with the
 *   access key, `aud` = `<endpoint>/client/hubs/<hub>`, `sub` = the user id, `role` = roles and
 *   `webpubsub.group` = groups to join at once (WebPubSubServiceClient.getClientAccessToken).
 *
 * Host names are not compared (locally the same service is reached as 127.0.0.1 and as localhost); the
 * path (and for REST the query) must be the one signed, the signature must verify and the token must not
 * have expired.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

export type TokenCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The claims of a verified token. */
export type TokenClaims = Record<string, unknown> & { aud?: unknown; sub?: unknown; exp?: unknown; nbf?: unknown };

/** The access key as a secret KeyObject, made once per key (not re-imported for every token). */
const secretKeys = new Map<string, KeyObject>();
function secretKeyOf(key: string): KeyObject {
  let k = secretKeys.get(key);
  if (!k) secretKeys.set(key, (k = createSecretKey(Buffer.from(key, "utf8"))));
  return k;
}

function jsonPart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An HS256 JWT checked as the service checks it (and as jsonwebtoken.verify with `algorithms: ["HS256"]` did
 * here before: one HMAC instead of its option and stream machinery, which was most of a local REST call's
 * cost): three parts, header `alg` HS256, the signature over `<header>.<payload>` with the key, a JSON object
 * payload, `exp` (seconds) not reached and `nbf` passed when present.
 */
function verify(token: string, key: string, nowMs = Date.now()): TokenCheck<TokenClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "invalid token: jwt malformed" };
  const [head, body, signature] = parts as [string, string, string];
  const header = jsonPart(head);
  if (!isObject(header)) return { ok: false, reason: "invalid token: invalid header" };
  if (header.alg !== "HS256") return { ok: false, reason: "invalid token: invalid algorithm (HS256 only)" };
  // Compared as text, as jws does: base64url decoding would accept other spellings of the same bytes.
  const expected = Buffer.from(createHmac("sha256", secretKeyOf(key)).update(`${head}.${body}`).digest("base64url"));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "invalid token: invalid signature" };
  const claims = jsonPart(body);
  if (!isObject(claims)) return { ok: false, reason: "the token payload is not a JSON object" };
  const now = Math.floor(nowMs / 1000);
  if (claims.exp !== undefined && (typeof claims.exp !== "number" || now >= claims.exp)) return { ok: false, reason: "invalid token: jwt expired" };
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || claims.nbf > now)) return { ok: false, reason: "invalid token: jwt not active" };
  return { ok: true, value: claims };
}

function audiencePath(aud: unknown): string | undefined {
  const first = Array.isArray(aud) ? (aud[0] as unknown) : aud;
  if (typeof first !== "string") return undefined;
  try {
    const url = new URL(first);
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}

export function bearerOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m?.[1];
}

/** A REST call's token: signed with the key, for exactly this path and query (`requestTarget` = req.url). */
export function checkServiceToken(authorization: string | undefined, requestTarget: string, key: string): TokenCheck<TokenClaims> {
  const token = bearerOf(authorization);
  if (!token) return { ok: false, reason: "missing 'Authorization: Bearer <token>'" };
  const checked = verify(token, key);
  if (!checked.ok) return checked;
  if (audiencePath(checked.value.aud) !== requestTarget) return { ok: false, reason: `the token's audience is not this request URL (${requestTarget})` };
  return checked;
}

export interface ClientClaims {
  userId: string | undefined;
  roles: string[];
  groups: string[];
}

const stringList = (v: unknown): string[] => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** A client connection's token: signed with the key, for `/client/hubs/<hub>`. */
export function checkClientToken(token: string | undefined, hub: string, key: string): TokenCheck<ClientClaims> {
  if (!token) return { ok: false, reason: "missing access_token" };
  const checked = verify(token, key);
  if (!checked.ok) return checked;
  const path = audiencePath(checked.value.aud);
  if (path === undefined || path.replace(/\/$/, "").toLowerCase() !== `/client/hubs/${hub}`.toLowerCase()) {
    return { ok: false, reason: `the token's audience is not /client/hubs/${hub}` };
  }
  const sub = checked.value.sub;
  return {
    ok: true,
    value: { userId: sub ? String(sub) : undefined, roles: stringList(checked.value.role), groups: stringList(checked.value["webpubsub.group"]) },
  };
}
