/** The Redis matchmaking store: public surface. See src/store/README.md for keys, scripts and semantics. */

export * from "./types";
export { createRedisConnection, type RedisConnection } from "./connection";
export { MatchmakingStore, StoreInputError, STORE_CALL_LIMITS, type MatchmakingStoreOptions } from "./matchmakingStore";
export { ServerPool, type ServerPoolOptions } from "./serverPool";
export { ScriptReplyError } from "./replyDecoder";
