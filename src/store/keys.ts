/**
 * Redis key names. Everything of one region lives under `<prefix>:{<region>}:` - the `{region}` hash tag
 * puts all of a region's keys into one hash slot, so each Lua script (which builds its keys from that
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

/** `<prefix>:{<region>}:` - what the scripts get as ARGV[1]. */
export function regionPrefix(prefix: string, region: string): string {
  return `${prefix}:{${region}}:`;
}

/** `<prefix>:{<region>}:<LogicalName>[:<id>]` */
export function regionKey(prefix: string, region: string, name: LogicalKey, id?: string): string {
  return `${regionPrefix(prefix, region)}${name}${id === undefined ? "" : `:${id}`}`;
}

/**
 * The key a region's scripts are routed by (KEYS[1]). Any key with the region's hash tag would do;
 * SessionSeq is always the same slot as every other key of the region.
 */
export function routingKey(prefix: string, region: string): string {
  return regionKey(prefix, region, KEY.SessionSeq);
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
