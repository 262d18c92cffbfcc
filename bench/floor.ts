/**
 * The floor: what the same redis-server does for the cheapest possible round trip, measured in the same run,
 * so our numbers can be read as "how close to Redis's own limit" instead of as absolutes on a noisy machine.
 */
import { connect, snapshot, type RawClient } from "./redisProbe";

export interface FloorResult {
  connections: number;
  /** PING, each connection waiting for its reply before the next (round trips/s, all connections together). */
  pingRoundTripsPerSec: number;
  /** EVALSHA of `return 1`, one outstanding per connection (round trips/s). */
  evalshaRoundTripsPerSec: number;
  /** EVALSHA of `return 1`, 100 in flight per connection (commands/s): the server's command ceiling. */
  evalshaPipelinedPerSec: number;
  /** Mean latency of one no-op EVALSHA round trip under that load (µs). */
  evalshaRoundTripMicros: number;
  /** Redis server CPU per no-op EVALSHA round trip (one outstanding per connection), µs: the fixed cost of any script call. */
  evalshaServerCpuMicros: number;
  /** Redis server CPU per PING round trip, µs. */
  pingServerCpuMicros: number;
}

const NOOP = "return 1";

/** Runs `step` on every client until the time is up; returns the rate and the server CPU per step unit. */
async function timed(clients: RawClient[], seconds: number, step: (c: RawClient) => Promise<number>): Promise<{ rate: number; cpuMicros: number }> {
  const before = await snapshot(clients[0]!);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const counts = await Promise.all(
    clients.map(async (c) => {
      let n = 0;
      while (performance.now() < deadline) n += await step(c);
      return n;
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const after = await snapshot(clients[0]!);
  const total = counts.reduce((a, b) => a + b, 0);
  return { rate: total / elapsed, cpuMicros: ((after.cpuSeconds - before.cpuSeconds) / total) * 1e6 };
}

export async function measureFloor(url: string, o: { connections: number; seconds: number }): Promise<FloorResult> {
  const clients = await Promise.all(Array.from({ length: o.connections }, () => connect(url)));
  try {
    const sha = String(await clients[0]!.sendCommand(["SCRIPT", "LOAD", NOOP]));
    // Warm-up: connections, JIT, the script cache.
    await timed(clients, 0.2, async (c) => (await c.sendCommand(["EVALSHA", sha, "0"]), 1));
    const ping = await timed(clients, o.seconds, async (c) => (await c.sendCommand(["PING"]), 1));
    const evalsha = await timed(clients, o.seconds, async (c) => (await c.sendCommand(["EVALSHA", sha, "0"]), 1));
    const depth = 100;
    const pipelined = await timed(clients, o.seconds, async (c) => {
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < depth; i++) replies.push(c.sendCommand(["EVALSHA", sha, "0"]));
      await Promise.all(replies);
      return depth;
    });
    return {
      connections: o.connections,
      pingRoundTripsPerSec: ping.rate,
      evalshaRoundTripsPerSec: evalsha.rate,
      evalshaPipelinedPerSec: pipelined.rate,
      evalshaRoundTripMicros: (o.connections / evalsha.rate) * 1e6,
      evalshaServerCpuMicros: evalsha.cpuMicros,
      pingServerCpuMicros: ping.cpuMicros,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}
