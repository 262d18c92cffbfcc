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
  Player: "Player",
  PlayersTimeStartedMatchmaking: "PlayersTimeStartedMatchmaking",
  Session: "Session",
  SessionsPerMatchmaking: "SessionsPerMatchmaking",
  SessionPlayers: "SessionPlayers",
  SessionsReady: "SessionsReady",
  SessionsCreationTime: "SessionsCreationTime",
  SessionsAnnouncing: "SessionsAnnouncing",
  SessionSeq: "SessionSeq",
  Ticket: "Ticket",
  WaitingPerMode: "WaitingPerMode",
  ReadyPerMode: "ReadyPerMode",
  MatchTimes: "MatchTimes",
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

/** Dead-letter stream of one message source. Not region-tagged: messages that failed may have no valid region. */
export function deadLetterKey(prefix: string, source: string): string {
  return `${prefix}:DeadLetters:${source}`;
}
