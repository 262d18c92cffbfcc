/**
 * Redis key names. Everything of one region lives under `<prefix>:{<region>}:` (a region of a zone:
 * `<prefix>:{zone.<zone>}:<region>:`) - the hash tag puts all of a region's (a zone's) keys into one hash slot, so each Lua script (which builds its keys from that
 * prefix) touches a single slot and runs unchanged on a Redis Cluster. Logical names follow the reference
 * architecture's documented schema so operators recognise them.
 */

/** Logical key names inside a region (see src/store/README.md for what each holds). */
export const KEY = {
  Servers: "Servers",
  ServersAvailable: "ServersAvailable",
  ServerLeases: "ServerLeases",
  ServerClaims: "ServerClaims",
  ServerFence: "ServerFence",
  /** The player's current ticket; also its redelivery guard (there is no key per ticket). */
  Player: "Player",
  /** A session; its members are its fields `@<playerId>` = ticketId (there is no SessionPlayers set). */
  Session: "Session",
  SessionsPerMatchmaking: "SessionsPerMatchmaking",
  /** Open sessions of a skill mode by the midpoint of their skill range (rules modes). */
  SessionsBySkill: "SessionsBySkill",
  SessionsReady: "SessionsReady",
  SessionsCreationTime: "SessionsCreationTime",
  /** Open and ready sessions by the earliest wait start of their members (the logical PlayersTimeStartedMatchmaking, one entry per session). */
  SessionsWaitingSince: "SessionsWaitingSince",
  SessionsAnnouncing: "SessionsAnnouncing",
  SessionSeq: "SessionSeq",
  WaitingPerMode: "WaitingPerMode",
  ReadyPerMode: "ReadyPerMode",
  MatchTimes: "MatchTimes",
  Match: "Match",
  MatchedPerMode: "MatchedPerMode",
  /** Skill mode: waiting players per skill band (band -> n). */
  SkillBands: "SkillBands",
  /** Rules mode: the last 1000 matches' [skillSpread, teamSkillGap, waitSeconds]. */
  MatchQuality: "MatchQuality",
  /** Backfill (issue 14): the open request of a running game, per session (hash). */
  Backfill: "Backfill",
  /** Backfill: open requests, sessionId -> request sequence (zset; oldest request served first). */
  Backfills: "Backfills",
  /** Backfill: the request counter (backfillIds are `<region>.b<seq>`). */
  BackfillSeq: "BackfillSeq",
  /** Backfill: the announcement of one join (string, JSON), kept until sent or the ticket retention. */
  BackfillJoin: "BackfillJoin",
  /** Backfill: outbox of joins whose match-made is not confirmed sent, joinId -> last (re)send time (zset). */
  BackfillJoinsAnnouncing: "BackfillJoinsAnnouncing",
} as const;

export type LogicalKey = (typeof KEY)[keyof typeof KEY];

/** region -> zone, for the regions of a zone (MATCH_REGIONS zones, issue 14); a region in none is absent. */
export type Zones = Readonly<Record<string, string>>;
const NO_ZONES: Zones = {};

/**
 * The hash tag of a region's keys: the region itself, or `zone.<zone>` for the regions of a zone, which so
 * share one hash slot (no region can be called that: region names have no dot).
 */
export function hashTag(region: string, zones: Zones = NO_ZONES): string {
  return Object.prototype.hasOwnProperty.call(zones, region) ? `zone.${zones[region]}` : region;
}

/**
 * What the scripts get as ARGV[1]: `<prefix>:{<region>}:` for a region in no zone (unchanged since before
 * zones), `<prefix>:{zone.<zone>}:<region>:` for a region of a zone (its own key names, its zone's slot).
 */
export function regionPrefix(prefix: string, region: string, zones: Zones = NO_ZONES): string {
  const tag = hashTag(region, zones);
  return tag === region ? `${prefix}:{${region}}:` : `${prefix}:{${tag}}:${region}:`;
}

/** `<region prefix><LogicalName>[:<id>]` */
export function regionKey(prefix: string, region: string, name: LogicalKey, id?: string, zones: Zones = NO_ZONES): string {
  return `${regionPrefix(prefix, region, zones)}${name}${id === undefined ? "" : `:${id}`}`;
}

/**
 * The key a region's scripts are routed by (KEYS[1]). Any key with the region's hash tag would do;
 * SessionSeq is always the same slot as every other key of the region.
 */
export function routingKey(prefix: string, region: string, zones: Zones = NO_ZONES): string {
  return regionKey(prefix, region, KEY.SessionSeq, undefined, zones);
}

/**
 * `<prefix>:{<tag>}:Latency:` - the latency pool of a region's slot (the zone's, or the lone region's): the
 * tickets of latency modes wait here until a full group is placed in one region (lua/placeLatency.lua).
 * `Latency` cannot be a region name (region names are lowercase), so it never meets a zone region's keys.
 */
export function latencyPoolPrefix(prefix: string, region: string, zones: Zones = NO_ZONES): string {
  return `${prefix}:{${hashTag(region, zones)}}:Latency:`;
}

/**
 * Counter of one rate-limited subject (`player:<id>`, `address:<ip>`). Not region-tagged: the subject is its
 * own hash tag, so the counters of many subjects spread over a cluster's shards.
 */
export function rateLimitKey(prefix: string, subject: string): string {
  return `${prefix}:RateLimit:{${subject}}`;
}

/** Dead-letter stream of one message source. Not region-tagged: messages that failed may have no valid region. */
export function deadLetterKey(prefix: string, source: string): string {
  return `${prefix}:DeadLetters:${source}`;
}

/**
 * The global server index: one hash slot of its own (`{_servers}`: no region can be called that, a region
 * name starts with a letter or digit), because a serverId is one server wherever it is and the regions are
 * separate slots. See src/store/README.md "Game servers are global" for why two steps are safe.
 */
export const SERVER_INDEX = {
  /** hash serverId -> JSON {region, token, address, leaseExpiresAt, retire?: [...]}: where the server lives. */
  Where: "Where",
  /** hash address -> serverId: which server holds an address. */
  Address: "Address",
  /** string: the claim token counter (tokens only grow). */
  Seq: "Seq",
} as const;

export const SERVER_INDEX_TAG = "_servers";

/** `<prefix>:{_servers}:` - what the index scripts get as ARGV[1]. */
export function serverIndexPrefix(prefix: string): string {
  return `${prefix}:{${SERVER_INDEX_TAG}}:`;
}

export function serverIndexKey(prefix: string, name: (typeof SERVER_INDEX)[keyof typeof SERVER_INDEX]): string {
  return `${serverIndexPrefix(prefix)}${name}`;
}
