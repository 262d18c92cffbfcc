/**
 * Field rules shared by the HTTP API, the Event Hub handlers and the store.
 * Each validator returns a value or an ErrorBody that says what is wrong; nothing throws on bad input.
 */
import type { ErrorBody, PartyMember, PlayerRequest } from "./types";
import { SKILL_MAX, SKILL_MIN, type ModeRules } from "./modeRules";
import { hasOwnName, ID_PATTERN, MODE_PATTERN, REGION_PATTERN } from "./fields";
import { ticketPlacement, validateLatencies } from "./latency";

export { ID_PATTERN, MODE_PATTERN, REGION_PATTERN, SESSION_ID_PATTERN, FIELD_PATTERNS } from "./fields";

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

export const fail = (error: string, detail: string): { ok: false; error: ErrorBody } => ({ ok: false, error: { error, detail } });
export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

/**
 * An object with only the `allowed` fields: unknown fields are refused so typos are visible. `notObject` is
 * the detail when it is no object at all.
 */
export function validateFields(msg: unknown, allowed: readonly string[], notObject: string): Validated<Record<string, unknown>> {
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return fail("invalid_message", notObject);
  const extra = Object.keys(msg).filter((k) => !allowed.includes(k));
  if (extra.length) return fail("unknown_field", `unexpected field(s): ${extra.join(", ")}`);
  return ok(msg as Record<string, unknown>);
}

export function validateId(field: string, value: unknown): Validated<string> {
  if (typeof value !== "string") return fail(`invalid_${field}`, `${field} must be a string of 1-64 characters [A-Za-z0-9_-]`);
  if (!ID_PATTERN.test(value)) return fail(`invalid_${field}`, `${field} must be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(value.slice(0, 80))}`);
  return ok(value);
}

/** `modes`: the configured modes by name (only the names matter here). */
export function validateMode(value: unknown, modes: Readonly<Record<string, unknown>>): Validated<string> {
  if (typeof value !== "string" || !MODE_PATTERN.test(value)) return fail("invalid_mode", `mode must be one of: ${Object.keys(modes).join(", ")}`);
  if (!hasOwnName(modes, value)) return fail("unknown_mode", `mode ${JSON.stringify(value)} is not configured; known modes: ${Object.keys(modes).join(", ")}`);
  return ok(value);
}

/** `regions`: the regions served. Without it any well-formed region is accepted (a store not bound to a list). */
export function validateRegion(value: unknown, regions?: readonly string[]): Validated<string> {
  if (!regions) {
    if (typeof value !== "string" || !REGION_PATTERN.test(value))
      return fail("invalid_region", "region must be 1-32 characters of [a-z0-9-], starting with a letter or digit");
    return ok(value);
  }
  if (typeof value !== "string" || !REGION_PATTERN.test(value)) return fail("invalid_region", `region must be one of: ${regions.join(", ")}`);
  if (!regions.includes(value)) return fail("unknown_region", `region ${JSON.stringify(value)} is not served here; regions: ${regions.join(", ")}`);
  return ok(value);
}

/** `host:port`, host a DNS name, IPv4 or [IPv6]; port 1-65535. */
export function validateAddress(value: unknown): Validated<string> {
  if (typeof value !== "string" || value.length > 261) return fail("invalid_address", "address must be a string host:port");
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535)
    return fail("invalid_address", `address must be host:port with a port 1-65535, got ${JSON.stringify(value.slice(0, 80))}`);
  return ok(value);
}

/** ISO-8601 timestamp with a time zone; returns epoch milliseconds. */
export function validateTimestamp(field: string, value: unknown): Validated<number> {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    return fail(`invalid_${field}`, `${field} must be an ISO-8601 UTC timestamp like 2026-01-01T12:00:00Z`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return fail(`invalid_${field}`, `${field} is not a real date: ${JSON.stringify(value)}`);
  return ok(ms);
}

export interface MatchRules {
  modes: Readonly<Record<string, ModeRules>>;
  regions: readonly string[];
  /** region -> zone (MATCH_REGIONS zones): where a latency ticket may be placed. */
  zones?: Readonly<Record<string, string>>;
}

/** The ticketId, playerId, mode and region of a ticket message, checked in that order (first error wins). */
export function validateTicketFields(
  m: Record<string, unknown>,
  rules: { modes: Readonly<Record<string, unknown>>; regions?: MatchRules["regions"] },
): Validated<{ ticketId: string; playerId: string; mode: string; region: string }> {
  const ticketId = validateId("ticketId", m.ticketId);
  if (!ticketId.ok) return ticketId;
  const playerId = validateId("playerId", m.playerId);
  if (!playerId.ok) return playerId;
  const mode = validateMode(m.mode, rules.modes);
  if (!mode.ok) return mode;
  const region = validateRegion(m.region, rules.regions);
  if (!region.ok) return region;
  return ok({ ticketId: ticketId.value, playerId: playerId.value, mode: mode.value, region: region.value });
}

/** A `player-requests` message, validated field by field. Unknown fields are refused so typos are visible. */
export function validatePlayerRequest(msg: unknown, rules: MatchRules): Validated<PlayerRequest & { requestedAtMs: number }> {
  const fields = validateFields(
    msg,
    ["ticketId", "playerId", "mode", "region", "requestedAt", "skill", "party", "latencies"],
    "a player request must be a JSON object",
  );
  if (!fields.ok) return fields;
  const m = fields.value;
  const ticket = validateTicketFields(m, rules);
  if (!ticket.ok) return ticket;
  const requestedAt = validateTimestamp("requestedAt", m.requestedAt);
  if (!requestedAt.ok) return requestedAt;
  // validateMode checked the name is an own property: the rules exist.
  const party = validateTicketRules(ticket.value.playerId, m, ticket.value.mode, rules.modes[ticket.value.mode]!);
  if (!party.ok) return party;
  const latencies = validateTicketLatencies(m.latencies, ticket.value.region, rules.modes[ticket.value.mode]!, rules);
  if (!latencies.ok) return latencies;
  return {
    ok: true,
    value: { ...ticket.value, requestedAt: m.requestedAt as string, requestedAtMs: requestedAt.value, ...party.value, ...latencies.value },
  };
}

/**
 * A ticket's `latencies` (issue 14): served regions, 0-10000 ms each; in a latency mode at least one of them
 * must be a region the ticket can be matched in (its home region's zone, or the home region alone).
 */
export function validateTicketLatencies(
  value: unknown,
  home: string,
  rules: ModeRules,
  layout: { regions?: readonly string[]; zones?: Readonly<Record<string, string>> },
): Validated<{ latencies?: Record<string, number> }> {
  if (value === undefined) return ok({});
  const latencies = validateLatencies(value, layout.regions, REGION_PATTERN);
  if (!latencies.ok) return latencies;
  if (rules.latency) {
    const zones = layout.zones ?? {};
    const placed = ticketPlacement({ regions: layout.regions ?? Object.keys(zones), zones }, { region: home, latencies: latencies.value }, home);
    if (!placed.ok) return placed;
  }
  return ok({ latencies: latencies.value });
}

/** A ticket's `skill` and `party` against its mode's rules (DESIGN.md section 6 "Tickets"); first problem wins. */
export function validateTicketRules(
  playerId: string,
  m: { skill?: unknown; party?: unknown },
  mode: string,
  rules: ModeRules,
): Validated<{ skill?: number; party?: PartyMember[] }> {
  const skill = validateSkill("skill", m.skill, mode, rules);
  if (!skill.ok) return skill;
  if (m.party === undefined) return ok(skill.value === undefined ? {} : { skill: skill.value });
  if (!Array.isArray(m.party)) return fail("invalid_party", "party must be an array of {playerId, skill?}: the OTHER members, not the leader");
  if (m.party.length > rules.maxPartySize - 1) {
    return fail(
      "party_too_large",
      `mode ${mode} takes parties of at most ${rules.maxPartySize} player(s), the leader included; party lists ${m.party.length} other member(s)`,
    );
  }
  const party: PartyMember[] = [];
  const seen = new Set<string>([playerId]);
  for (const [i, raw] of m.party.entries()) {
    const member = validateFields(raw, ["playerId", "skill"], `party[${i}] must be an object {playerId, skill?}`);
    if (!member.ok) return fail("invalid_party", member.error.error === "unknown_field" ? `party[${i}]: ${member.error.detail}` : member.error.detail);
    const id = validateId("playerId", member.value.playerId);
    if (!id.ok) return fail("invalid_party", `party[${i}].${id.error.detail}`);
    if (id.value === playerId)
      return fail("party_includes_leader", `party lists the OTHER members; ${playerId} is the leader (the ticket's playerId) and must not be in it`);
    if (seen.has(id.value)) return fail("party_duplicate_member", `party lists ${id.value} twice`);
    seen.add(id.value);
    const memberSkill = validateSkill(`party[${i}].skill`, member.value.skill, mode, rules);
    if (!memberSkill.ok) return memberSkill;
    party.push(memberSkill.value === undefined ? { playerId: id.value } : { playerId: id.value, skill: memberSkill.value });
  }
  return ok({ ...(skill.value === undefined ? {} : { skill: skill.value }), ...(party.length ? { party } : {}) });
}

function validateSkill(field: string, value: unknown, mode: string, rules: ModeRules): Validated<number | undefined> {
  if (value === undefined) return rules.skill ? fail("skill_required", `mode ${mode} matches by skill: ${field} is required`) : ok(undefined);
  if (typeof value !== "number" || !Number.isFinite(value) || value < SKILL_MIN || value > SKILL_MAX)
    return fail("invalid_skill", `${field} must be a finite number from ${SKILL_MIN} to ${SKILL_MAX}, got ${JSON.stringify(value)}`);
  return ok(value);
}
