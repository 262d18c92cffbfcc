/** Wiring: the store as the app settings say. Lives here, not in src/store, so the store never reads settings. */
import type { Settings } from "../config/settings";
import { createRedisConnection, MatchmakingStore } from "../store";

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
