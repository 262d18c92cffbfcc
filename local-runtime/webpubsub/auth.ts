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
import { createSecretKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";

export type TokenCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * The access key as a secret KeyObject, made once per key: given a string, jsonwebtoken first tries it as a
 * PEM public key (createPublicKey throws) on every call, which cost more than the rest of a REST call.
 */
const secretKeys = new Map<string, KeyObject>();
function secretKeyOf(key: string): KeyObject {
  let k = secretKeys.get(key);
  if (!k) secretKeys.set(key, (k = createSecretKey(Buffer.from(key, "utf8"))));
  return k;
}

function verify(token: string, key: string): TokenCheck<jwt.JwtPayload> {
  try {
    const payload = jwt.verify(token, secretKeyOf(key), { algorithms: ["HS256"] });
    if (typeof payload === "string") return { ok: false, reason: "the token payload is not a JSON object" };
    return { ok: true, value: payload };
  } catch (err) {
    return { ok: false, reason: `invalid token: ${(err as Error).message}` };
  }
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
export function checkServiceToken(authorization: string | undefined, requestTarget: string, key: string): TokenCheck<jwt.JwtPayload> {
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
