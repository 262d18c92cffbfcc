/**
 * Abuse limits of the ticket routes: creating and cancelling tickets is limited per player and per client
 * address (RATE_LIMIT_TICKETS_PER_PLAYER / _PER_ADDRESS per RATE_LIMIT_WINDOW_SECONDS). The counters live in
 * Redis (one atomic script call per subject), so the limits hold across every instance of the app.
 * Reading a ticket is not limited: clients poll it.
 */
import { refuse } from "./errors";
import type { Ports } from "./ports";

export interface Caller {
  playerId: string;
  /** The client's address as the front end saw it; undefined when unknown (then only the player is limited). */
  clientAddress: string | undefined;
}

/** Takes one unit of each limit that applies, or refuses with 429 `rate_limited` and Retry-After. */
export async function limitTicketCalls(p: Pick<Ports, "settings" | "store">, caller: Caller, action: "create" | "cancel"): Promise<void> {
  const { perPlayer, perAddress, windowSeconds } = p.settings.identity.rateLimits;
  const windowMs = windowSeconds * 1000;
  const checks: { subject: string; limit: number; what: string }[] = [];
  if (perPlayer > 0) checks.push({ subject: `player:${caller.playerId}`, limit: perPlayer, what: `player ${caller.playerId}` });
  if (perAddress > 0 && caller.clientAddress) checks.push({ subject: `address:${caller.clientAddress}`, limit: perAddress, what: "this client address" });
  if (checks.length === 0) return;
  const results = await Promise.all(checks.map((c) => p.store.rateLimit(c.subject, c.limit, windowMs)));
  const refused = results.map((r, i) => ({ r, c: checks[i]! })).filter(({ r }) => !r.allowed);
  if (refused.length === 0) return;
  const retryAfter = Math.max(1, ...refused.map(({ r }) => Math.ceil(r.resetMs / 1000)));
  const { c } = refused[0]!;
  throw refuse(
    "tooManyRequests",
    "rate_limited",
    `${c.what} may create or cancel at most ${c.limit} tickets per ${windowSeconds} s; retry in ${retryAfter} s (tried to ${action})`,
    { retryAfterSeconds: retryAfter },
    { "Retry-After": String(retryAfter) },
  );
}

/**
 * The client's address from the front end's `X-Forwarded-For`: its LAST entry is the one the nearest proxy
 * (Azure's front end) added; earlier entries come from the client and can be forged. Ports are dropped
 * (`1.2.3.4:5678`, `[::1]:80`). Anything that is not an address is ignored.
 */
export function clientAddressOf(forwardedFor: string | null | undefined): string | undefined {
  if (!forwardedFor) return undefined;
  const last = forwardedFor.split(",").pop()!.trim();
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::\d+)?$/.exec(last);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(last);
  const addr = v6?.[1] ?? v4?.[1] ?? (/^[0-9A-Fa-f:.]{2,45}$/.test(last) && last.includes(":") ? last : undefined);
  return addr && addr.length <= 45 ? addr.toLowerCase() : undefined;
}
