/**
 * App settings, read once and validated. Every setting the code reads is listed in SETTING_NAMES so the
 * deployment template can be checked against it (test/infra). A bad or missing value fails at startup
 * with one error that lists every problem, instead of failing later on the first request.
 */
import { ID_PATTERN } from "../domain/fields";
import type { ModeRules } from "../domain/modeRules";
import { parseMatchModes } from "./matchModes";
import { parseMatchRegions } from "./regions";
import { IDENTITY_SETTING_NAMES, loadIdentitySettings, type IdentitySettings } from "../identity/settings";

export interface Settings {
  /** redis:// or rediss:// URL. Empty only under the local runtime, which then starts a private redis-server. */
  redisConnectionString: string;
  /** "standalone" or "cluster" (Azure Managed Redis with the OSS cluster policy). */
  redisMode: "standalone" | "cluster";
  /** "password" (from the URL, or none) or "entraId" (managed identity via @redis/entraid). */
  redisAuth: "password" | "entraId";
  /** Client id of a user-assigned identity for Entra ID auth; empty means system-assigned. */
  redisEntraClientId: string;
  redisKeyPrefix: string;
  playerRequestsHub: string;
  matchMadeHub: string;
  /**
   * mode -> its rules, normalized (src/domain/modeRules.ts). `MATCH_MODES` gives a session size (a number:
   * first come, first served) or a rule set (teams, teamSize, maxPartySize, skill); src/config/matchModes.ts.
   */
  modes: Record<string, ModeRules>;
  defaultMode: string;
  /** Every region served (`MATCH_REGIONS`, zones' regions in place): src/config/regions.ts. */
  regions: string[];
  /**
   * region -> its zone, for the regions of a zone (issue 14): they share one Redis hash slot, so a ticket with
   * latencies is placed across them by one script. A region in no zone keeps its own slot (and key names).
   */
  zones: Record<string, string>;
  defaultRegion: string;
  matchTimeoutSeconds: number;
  /** NCRONTAB (6 fields, with seconds) of the assignSessions sweeper. */
  assignSchedule: string;
  serverLeaseSeconds: number;
  /**
   * How long a server claimed for a session has to confirm it (its next heartbeat, or POST
   * /api/servers/{serverId}/ack). Dying before that requeues the group; dying after it is `serverLost`.
   */
  serverClaimSeconds: number;
  /** Ticket token keys, player identity (PLAYER_AUTH) and abuse limits: src/identity/settings.ts. */
  identity: IdentitySettings;
  /** How long finished tickets (and their redelivery guards) are kept. */
  ticketRetentionSeconds: number;
}

export const SETTING_NAMES = {
  redisConnectionString: "REDIS_CONNECTION_STRING",
  redisMode: "REDIS_MODE",
  redisAuth: "REDIS_AUTH",
  redisEntraClientId: "REDIS_ENTRA_CLIENT_ID",
  redisKeyPrefix: "REDIS_KEY_PREFIX",
  playerRequestsHub: "PLAYER_REQUESTS_HUB",
  matchMadeHub: "MATCH_MADE_HUB",
  modes: "MATCH_MODES",
  defaultMode: "DEFAULT_MODE",
  regions: "MATCH_REGIONS",
  defaultRegion: "DEFAULT_REGION",
  matchTimeoutSeconds: "MATCH_TIMEOUT_SECONDS",
  assignSchedule: "ASSIGN_SCHEDULE",
  serverLeaseSeconds: "SERVER_LEASE_SECONDS",
  serverClaimSeconds: "SERVER_CLAIM_SECONDS",
  ticketRetentionSeconds: "TICKET_RETENTION_SECONDS",
  ...IDENTITY_SETTING_NAMES,
} as const satisfies Record<Exclude<keyof Settings, "identity" | "zones">, string>;

/**
 * The connection setting prefix used in the Event Hub trigger registrations. Registrations are made at
 * module load, before settings are read, so this is a constant; the host resolves `<prefix>` (connection
 * string) or `<prefix>__fullyQualifiedNamespace` (managed identity).
 */
export const EVENTHUB_CONNECTION = "EventHubConnection";
/**
 * Consumer group of both Event Hub triggers. A dedicated group (created by azuredeploy.json) keeps the
 * matchmaker's checkpoints apart from anything else that reads the hubs, such as analytics on $Default.
 */
export const EVENTHUB_CONSUMER_GROUP = "matchmaker";
/** Binding expressions the host resolves from app settings. */
export const PLAYER_REQUESTS_HUB_EXPR = `%${SETTING_NAMES.playerRequestsHub}%`;
export const MATCH_MADE_HUB_EXPR = `%${SETTING_NAMES.matchMadeHub}%`;
export const ASSIGN_SCHEDULE_EXPR = `%${SETTING_NAMES.assignSchedule}%`;

export const DEFAULTS = {
  REDIS_MODE: "standalone",
  REDIS_AUTH: "password",
  REDIS_KEY_PREFIX: "mm",
  PLAYER_REQUESTS_HUB: "player-requests",
  MATCH_MADE_HUB: "match-made",
  MATCH_MODES: '{"duel":2,"squad":4}',
  MATCH_REGIONS: '["westeurope"]',
  MATCH_TIMEOUT_SECONDS: "60",
  ASSIGN_SCHEDULE: "*/2 * * * * *",
  SERVER_LEASE_SECONDS: "30",
  SERVER_CLAIM_SECONDS: "60",
  TICKET_RETENTION_SECONDS: "21600",
} as const;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid matchmaker configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

export function loadSettings(env: Env = process.env): Settings {
  const problems: string[] = [];
  const get = (name: string): string => {
    const v = env[name];
    if (v !== undefined && v.trim() !== "") return v.trim();
    return (DEFAULTS as Record<string, string>)[name] ?? "";
  };
  const int = (name: string, min: number, max: number): number => {
    const raw = get(name);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const json = <T>(name: string, check: (v: unknown) => string | undefined): T => {
    const raw = get(name);
    try {
      const v = JSON.parse(raw) as unknown;
      const why = check(v);
      if (why) problems.push(`${name} ${why}, got ${raw}`);
      return v as T;
    } catch {
      problems.push(`${name} must be JSON, got ${JSON.stringify(raw)}`);
      return undefined as T;
    }
  };
  const oneOf = <T extends string>(name: string, options: readonly T[]): T => {
    const v = get(name) as T;
    if (!options.includes(v)) problems.push(`${name} must be one of ${options.join(", ")}, got ${JSON.stringify(v)}`);
    return v;
  };

  const rawModes = json<unknown>(SETTING_NAMES.modes, () => undefined);
  // Every problem of the rule sets on its own line, not only the first (an operator fixes them in one go).
  const parsedModes = rawModes === undefined ? undefined : parseMatchModes(rawModes);
  problems.push(...(parsedModes?.problems ?? []).map((p) => `${SETTING_NAMES.modes} ${p}`));
  const modes = parsedModes?.modes;
  const rawRegions = json<unknown>(SETTING_NAMES.regions, () => undefined);
  const parsedRegions = rawRegions === undefined ? undefined : parseMatchRegions(rawRegions);
  problems.push(...(parsedRegions?.problems ?? []).map((p) => `${SETTING_NAMES.regions} ${p}`));
  const regions = parsedRegions && !parsedRegions.problems.length ? parsedRegions.regions : undefined;
  // The default is checked against the names given, so a bad rule set of it is reported once, as itself.
  const modeNames = typeof rawModes === "object" && rawModes !== null && !Array.isArray(rawModes) ? Object.keys(rawModes) : [];
  const defaultMode = get(SETTING_NAMES.defaultMode) || (modeNames[0] ?? "");
  const defaultRegion = get(SETTING_NAMES.defaultRegion) || (Array.isArray(regions) ? (regions[0] ?? "") : "");
  if (modeNames.length && !modeNames.includes(defaultMode))
    problems.push(`${SETTING_NAMES.defaultMode} ${JSON.stringify(defaultMode)} is not in ${SETTING_NAMES.modes}`);
  if (Array.isArray(regions) && !regions.includes(defaultRegion))
    problems.push(`${SETTING_NAMES.defaultRegion} ${JSON.stringify(defaultRegion)} is not in ${SETTING_NAMES.regions}`);

  const redisConnectionString = get(SETTING_NAMES.redisConnectionString);
  if (redisConnectionString && !/^rediss?:\/\//.test(redisConnectionString)) {
    problems.push(`${SETTING_NAMES.redisConnectionString} must be a redis:// or rediss:// URL`);
  }
  // The schedule is the host's to validate (it refuses to start the timer on a bad NCRONTAB expression);
  // the local runtime checks it with croner. Counting fields here would only be a second, weaker parser.
  const assignSchedule = get(SETTING_NAMES.assignSchedule);
  const identity = loadIdentitySettings(env, problems);

  const settings: Settings = {
    redisConnectionString,
    redisMode: oneOf(SETTING_NAMES.redisMode, ["standalone", "cluster"] as const),
    redisAuth: oneOf(SETTING_NAMES.redisAuth, ["password", "entraId"] as const),
    redisEntraClientId: get(SETTING_NAMES.redisEntraClientId),
    redisKeyPrefix: get(SETTING_NAMES.redisKeyPrefix),
    playerRequestsHub: get(SETTING_NAMES.playerRequestsHub),
    matchMadeHub: get(SETTING_NAMES.matchMadeHub),
    modes: modes ?? {},
    defaultMode,
    regions: regions ?? [],
    zones: parsedRegions?.zones ?? {},
    defaultRegion,
    matchTimeoutSeconds: int(SETTING_NAMES.matchTimeoutSeconds, 1, 3600),
    assignSchedule,
    serverLeaseSeconds: int(SETTING_NAMES.serverLeaseSeconds, 2, 3600),
    serverClaimSeconds: int(SETTING_NAMES.serverClaimSeconds, 1, 3600),
    identity,
    ticketRetentionSeconds: int(SETTING_NAMES.ticketRetentionSeconds, 60, 7 * 24 * 3600),
  };
  if (!ID_PATTERN.test(settings.redisKeyPrefix) || settings.redisKeyPrefix.length > 32)
    problems.push(`${SETTING_NAMES.redisKeyPrefix} must be 1-32 characters [A-Za-z0-9_-]`);
  if (problems.length) throw new ConfigError(problems);
  return settings;
}

let cached: Settings | undefined;
/** Settings of this process, read on first use. */
export function settings(): Settings {
  return (cached ??= loadSettings());
}
/** For tests and the local runtime, which set the environment before the app reads it. */
export function resetSettingsCache(): void {
  cached = undefined;
}
