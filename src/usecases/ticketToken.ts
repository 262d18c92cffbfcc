/**
 * Ticket tokens: the per-ticket secret a game client needs to read or cancel its ticket, so that it never
 * needs the Durable system key (which can terminate and purge any instance).
 *
 * Format: base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload part)). Self-describing: the
 * payload tells which ticket, player and region (= which Redis hash slot) to read, so a lookup needs no
 * server-side token table. Verification compares MACs in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { hasTicketFields } from "../domain/matchRequest";

export interface TicketClaims {
  ticketId: string;
  playerId: string;
  region: string;
  mode: string;
  /** Issued at, epoch seconds: lets a status read tell "not processed yet" from "long gone". */
  iat: number;
}

const MAX_TOKEN_LENGTH = 1024;

function mac(key: string, payloadPart: string): Buffer {
  return createHmac("sha256", key).update(payloadPart).digest();
}

export function signTicketToken(claims: TicketClaims, key: string): string {
  const payloadPart = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${payloadPart}.${mac(key, payloadPart).toString("base64url")}`;
}

export type TokenCheck = { ok: true; claims: TicketClaims } | { ok: false; error: "missing_token" | "invalid_token"; detail: string };

export function verifyTicketToken(token: string | undefined, key: string): TokenCheck {
  if (!token) return { ok: false, error: "missing_token", detail: "send the ticket token as 'Authorization: Bearer <token>' or ?token=" };
  const invalid = (detail: string): TokenCheck => ({ ok: false, error: "invalid_token", detail });
  if (token.length > MAX_TOKEN_LENGTH) return invalid("token is too long");
  const [payload, signature, ...rest] = token.split(".");
  if (payload === undefined || signature === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) {
    return invalid("token is malformed");
  }
  const given = Buffer.from(signature, "base64url");
  const expected = mac(key, payload);
  // timingSafeEqual needs equal lengths; the length of a MAC is public, so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid("token signature does not match");
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return invalid("token payload is not JSON");
  }
  const c = claims as Partial<TicketClaims> | null;
  if (!hasTicketFields(c) || typeof c.iat !== "number") return invalid("token payload is incomplete");
  return { ok: true, claims: { ticketId: c.ticketId, playerId: c.playerId, region: c.region, mode: c.mode, iat: c.iat } };
}

/** The token of a request: `Authorization: Bearer <token>` first, else `?token=`. */
export function tokenFromRequest(authorization: string | null | undefined, queryToken: string | null | undefined): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m) return m[1];
  }
  return queryToken || undefined;
}
