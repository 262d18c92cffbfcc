/**
 * A private redis-server whose main-thread CPU time the script-time tests read (bench/scriptCpu.ts): they judge
 * each script call by the CPU it cost Redis, not by wall time, which the shared machine makes noisy.
 */
import { mainThreadCpuClock, redisPid } from "../../bench/scriptCpu";
import { startRedisServer } from "../../local-runtime/redisServer";
import type { RedisConnection } from "../../src/store";
import { connect } from "./storeHarness";

export interface TimedRedisServer {
  redis: RedisConnection;
  /** redis-server's main-thread CPU time so far, in ns. */
  cpuNs: () => number;
  stop(): Promise<void>;
}

export async function startTimedRedisServer(extraArgs: string[] = []): Promise<TimedRedisServer> {
  const server = await startRedisServer({ extraArgs });
  const redis = await connect({ kind: "standalone", url: server.url });
  const clock = mainThreadCpuClock(await redisPid(redis));
  if ("unavailable" in clock) {
    await redis.close();
    await server.stop();
    throw new Error(clock.unavailable);
  }
  return {
    redis,
    cpuNs: clock.read,
    async stop() {
      await redis.close();
      await server.stop();
    },
  };
}
