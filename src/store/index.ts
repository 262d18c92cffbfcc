/** The Redis matchmaking store: public surface. See src/store/README.md for keys, scripts and semantics. */
import type { Settings } from "../config/settings";
import { createRedisConnection } from "./connection";
import { MatchmakingStore } from "./matchmakingStore";

export * from "./types";
export { createRedisConnection, type RedisConnection, type RedisConnectionOptions, type RedisMode } from "./connection";
export { MatchmakingStore, StoreInputError, LEAVE_REASONS, SESSION_ID_PATTERN, MAX_CLOCK_SKEW_MS, type MatchmakingStoreOptions } from "./matchmakingStore";
export { KEY, regionKey, regionPrefix, routingKey, deadLetterKey } from "./keys";
export { loadScripts, SCRIPT_NAMES } from "./scriptLoader";

/** A store connected as the app settings say (REDIS_CONNECTION_STRING, REDIS_MODE, REDIS_AUTH, ...). */
export async function storeFromSettings(s: Settings, opts: { clock?: () => number } = {}): Promise<MatchmakingStore> {
  if (!s.redisConnectionString) throw new Error("REDIS_CONNECTION_STRING is not set");
  const redis = await createRedisConnection({
    url: s.redisConnectionString,
    mode: s.redisMode,
    ...(s.redisMode === "cluster" ? { rootNodes: [{ url: s.redisConnectionString }] } : {}),
    auth: s.redisAuth,
    entraClientId: s.redisEntraClientId,
  });
  return new MatchmakingStore(redis, {
    prefix: s.redisKeyPrefix,
    modes: s.modes,
    regions: s.regions,
    serverLeaseSeconds: s.serverLeaseSeconds,
    ticketRetentionSeconds: s.ticketRetentionSeconds,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
}
