/** The ceiling's CPU split (bench/cpuProfile.ts): samples charged to the nearest library or own-code frame. */
import { describe, expect, it } from "vitest";
import { cpuSplit, startCpuProfile, type CpuProfile } from "../../bench/cpuProfile";

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

describe("cpu split", () => {
  it("charges Node's own frames to the library that called them, and leaves idle time out", () => {
    const profile: CpuProfile = {
      nodes: [
        frame(1, "(root)", "", [2, 5, 7, 8, 9, 10]),
        frame(2, "sendCommand", "file:///w/node_modules/@redis/client/dist/lib/client/index.js", [3]),
        frame(3, "Socket.write", "node:net", [4]),
        frame(4, "writev", ""),
        frame(5, "runEpisode", "file:///w/dist/local-runtime/durable/engine.js", [6]),
        frame(6, "mergeConfig", "file:///w/node_modules/axios/dist/node/axios.cjs"),
        frame(7, "(garbage collector)", ""),
        frame(8, "(idle)", ""),
        frame(9, "onStreamRead", "node:internal/stream_base_commons"),
        frame(10, "stop", "file:///w/dist/bench/cpuProfile.js", [11]),
        frame(11, "dispatch", ""),
      ],
      // writev 3 ms, axios under the engine 1 ms, GC 2 ms, idle 10 ms, a socket read nobody called 2 ms, the profiler 5 ms.
      samples: [4, 4, 4, 6, 7, 7, 8, 9, 9, 11],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 10000, 1000, 1000, 5000],
    };
    const split = Object.fromEntries(cpuSplit(profile).map((p) => [p.part, Math.round(p.percent)]));
    expect(split).toEqual({
      "Redis client (node-redis)": 38, // 3 of the 8 busy ms
      "durable-functions client and replay, axios": 13,
      "garbage collector": 25,
      "Node I/O and event loop": 25,
    });
  });

  it("samples this process between start and stop", async () => {
    const stop = await startCpuProfile(200);
    const until = performance.now() + 100;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const profile = await stop();
    expect(x).toBeGreaterThan(0);
    expect(profile.samples.length).toBeGreaterThan(50);
    const total = cpuSplit(profile).reduce((s, p) => s + p.percent, 0);
    expect(total).toBeCloseTo(100, 5);
  });
});
