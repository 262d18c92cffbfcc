/**
 * The patterns of the matchmaker's fields, written once. Validation (src/domain/validation.ts), settings,
 * the store and the published JSON Schemas (src/schemas) all follow these; test/domain/fields.test.ts
 * checks every `pattern` of those schemas against this table, so the documents cannot drift.
 */

/** Ids clients and servers choose (playerId, ticketId, serverId): 1–64 of [A-Za-z0-9_-]. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Regions are Azure-style names: lowercase letters, digits, hyphens. They end up inside Redis hash tags. */
const REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MODE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** As the store names sessions: `<region>.<sequence number>`, e.g. `westeurope.42`. */
const SESSION_ID = /^[a-z0-9][a-z0-9-]{0,31}\.[0-9]{1,15}$/;

export const FIELD_PATTERNS = {
  playerId: ID,
  ticketId: ID,
  serverId: ID,
  region: REGION,
  mode: MODE,
  sessionId: SESSION_ID,
} as const satisfies Record<string, RegExp>;

export type PatternField = keyof typeof FIELD_PATTERNS;

export const ID_PATTERN = ID;
export const REGION_PATTERN = REGION;
export const MODE_PATTERN = MODE;
export const SESSION_ID_PATTERN = SESSION_ID;

/** Whether `name` is an own property of `table`: configured names never match `constructor`, `__proto__`, `toString`. */
export function hasOwnName(table: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, name);
}
