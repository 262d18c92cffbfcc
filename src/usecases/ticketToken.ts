/**
 * Ticket tokens: the per-ticket secret a game client needs to read or cancel its ticket, so that it never
 * needs the Durable system key (which can terminate and purge any instance).
 *
 * Format: base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload part)). Self-describing: the
 * payload tells which ticket, player and region (= which Redis hash slot) to read, so a lookup needs no
 * server-side token table. The payload names the key that signed it (`kid`), so several keys can be
 * accepted at once while one is rotated out (src/identity/ticketKeys.ts), and carries an expiry (`exp`):
 * a token outlives its ticket's record by nothing, so an old token cannot be replayed against a player's
 * later tickets. Verification compares MACs in constant time and only then trusts the payload.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { hasTicketFields } from "../domain/matchRequest";
import type { TicketKey } from "../identity/ticketKeys";

export interface TicketClaims {
  ticketId: string;
  playerId: string;
  region: string;
  mode: string;
  /** Issued at, epoch seconds. */
  iat: number;
  /** Expires at, epoch seconds. */
  exp: number;
  /**
   * The ticket's requestedAt (epoch ms, the player-request's own): a ticket is newer than this one exactly
   * when its requestedAt is later, which is how the store tells a stale token from a leave that overtook its
   * request.
   */
  rat: number;
  /** The key that signed the token. */
  kid: string;
}

/** What the caller decides; the signer adds iat, exp and kid. */
export type TicketFacts = Pick<TicketClaims, "ticketId" | "playerId" | "region" | "mode" | "rat">;

const MAX_TOKEN_LENGTH = 1024;

function mac(key: string, payloadPart: string): Buffer {
  return createHmac("sha256", key).update(payloadPart).digest();
}

/**
 * How long a ticket token lives: the ticket can wait up to its timeout (plus the sweeper's margin), and its
 * result is readable for the retention after it ends. Past that the store has forgotten the ticket, so the
 * token has nothing left to read or cancel.
 */
export function ticketTokenLifetimeSeconds(s: { matchTimeoutSeconds: number; ticketRetentionSeconds: number }, staleMarginSeconds: number): number {
  return s.matchTimeoutSeconds + staleMarginSeconds + s.ticketRetentionSeconds;
}

/** Signs with the FIRST key of the ring. */
export function signTicketToken(facts: TicketFacts, keys: readonly TicketKey[], lifetimeSeconds: number, nowMs = Date.now()): string {
  const signer = keys[0];
  if (!signer) throw new Error("no ticket signing key is configured");
  const iat = Math.floor(nowMs / 1000);
  const claims: TicketClaims = { ...facts, iat, exp: iat + lifetimeSeconds, kid: signer.kid };
  const payloadPart = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${payloadPart}.${mac(signer.key, payloadPart).toString("base64url")}`;
}

export type TokenError = "missing_token" | "invalid_token" | "token_expired";
export type TokenCheck = { ok: true; claims: TicketClaims } | { ok: false; error: TokenError; detail: string };

export function verifyTicketToken(token: string | undefined, keys: readonly TicketKey[], nowMs = Date.now()): TokenCheck {
  if (!token) return { ok: false, error: "missing_token", detail: "send the ticket token as 'Authorization: Bearer <token>' or ?token=" };
  const invalid = (detail: string): TokenCheck => ({ ok: false, error: "invalid_token", detail });
  if (token.length > MAX_TOKEN_LENGTH) return invalid("token is too long");
  const [payload, signature, ...rest] = token.split(".");
  if (payload === undefined || signature === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) {
    return invalid("token is malformed");
  }
  // The payload is read before its MAC is checked only to learn which key to check it with; nothing else
  // of it is used until the MAC matches.
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return invalid("token payload is not JSON");
  }
  const c = (typeof claims === "object" && claims !== null ? claims : {}) as Partial<Record<keyof TicketClaims, unknown>>;
  if (typeof c.kid !== "string") return invalid("token names no signing key (a token from before key rotation); ask for a new ticket");
  const key = keys.find((k) => k.kid === c.kid);
  if (!key) return invalid(`token was signed with key ${JSON.stringify(c.kid.slice(0, 32))}, which is not (or no longer) accepted; ask for a new ticket`);
  const given = Buffer.from(signature, "base64url");
  const expected = mac(key.key, payload);
  // timingSafeEqual needs equal lengths; the length of a MAC is public, so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid("token signature does not match");
  if (!hasTicketFields(c) || !isEpoch(c.iat) || !isEpoch(c.exp) || !isEpoch(c.rat)) return invalid("token payload is incomplete");
  if (nowMs >= c.exp * 1000) {
    return { ok: false, error: "token_expired", detail: `the ticket token expired at ${new Date(c.exp * 1000).toISOString()}; ask for a new ticket` };
  }
  return { ok: true, claims: { ticketId: c.ticketId, playerId: c.playerId, region: c.region, mode: c.mode, iat: c.iat, exp: c.exp, rat: c.rat, kid: c.kid } };
}

const isEpoch = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v > 0;

/** The token of a request: `Authorization: Bearer <token>` first, else `?token=`. */
export function tokenFromRequest(authorization: string | null | undefined, queryToken: string | null | undefined): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m) return m[1];
  }
  return queryToken || undefined;
}
