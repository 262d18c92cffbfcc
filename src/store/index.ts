/** The Redis matchmaking store: public surface. See src/store/README.md for keys, scripts and semantics. */
import type { Settings } from "../config/settings";
import { createRedisConnection } from "./connection";
import { MatchmakingStore } from "./matchmakingStore";

export * from "./types";
export { createRedisConnection, type RedisConnection } from "./connection";
export { MatchmakingStore, StoreInputError, type MatchmakingStoreOptions } from "./matchmakingStore";

/** A store connected as the app settings say (REDIS_CONNECTION_STRING, REDIS_MODE, REDIS_AUTH, ...). */
export async function storeFromSettings(s: Settings, opts: { clock?: () => number } = {}): Promise<MatchmakingStore> {
  if (!s.redisConnectionString) throw new Error("REDIS_CONNECTION_STRING is not set");
  const redis = await createRedisConnection({
    url: s.redisConnectionString,
    mode: s.redisMode, // a cluster takes the URL as its root node
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
