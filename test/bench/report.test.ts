/** The report says plainly what was met, missed or not measured, from the numbers it is given. */
import { describe, expect, it } from "vitest";
import type { ThroughputResult } from "../../bench/core";
import { buildReport, evaluateTargets, type BenchResults } from "../../bench/report";

function tp(design: "ours" | "reference", sessionSize: number, buckets: number, playersPerSec: number): ThroughputResult {
  return {
    design,
    sessionSize,
    buckets,
    players: 1000,
    consumers: 4,
    batchSize: 100,
    seconds: 1,
    playersPerSec,
    assignedPlayers: 1000,
    roundTripsPerPlayer: design === "ours" ? 0.0125 : 6,
    fireAndForgetPerPlayer: design === "ours" ? 0 : 4,
    serverCommandsPerPlayer: 20,
    redisCpuMicrosPerPlayer: 10,
    batchMsP50: 2,
    batchMsP99: 5,
    assignPasses: 10,
    notes: [],
  };
}

function run(over: Partial<BenchResults> = {}): BenchResults {
  return {
    startedAt: "2026-11-21T08:00:00.000Z",
    mode: "quick",
    durationSeconds: 30,
    machine: { cpu: "test cpu", cores: 2, memoryGb: 8, node: "v20", redis: "7.0", platform: "linux x64", loadAverageAtStart: 0.5, loadAverageAtEnd: 1 },
    config: { consumers: 4, batchSize: 100, ourPlayers: 1000, referencePlayers: 100, floorSeconds: 1 },
    floor: {
      connections: 4,
      pingRoundTripsPerSec: 40_000,
      evalshaRoundTripsPerSec: 30_000,
      evalshaPipelinedPerSec: 200_000,
      evalshaRoundTripMicros: 130,
      evalshaServerCpuMicros: 5,
      pingServerCpuMicros: 2,
    },
    throughput: [tp("ours", 4, 1, 60_000), tp("reference", 4, 1, 2_000), tp("ours", 4, 10, 55_000), tp("reference", 4, 10, 3_000)],
    memory: [{ design: "ours", players: 1000, bytesPerWaitingPlayer: 300 }],
    notes: [],
    ...over,
  };
}

describe("bench report", () => {
  it("marks throughput and ratio targets met or missed on the worst 4-player scenario", () => {
    const v = evaluateTargets(run());
    expect(v[0]!.status).toBe("met"); // 55k and 60k >= 50k
    expect(v[1]!.status).toBe("missed"); // 55k / 3k = 18.3x < 20x
    expect(v[1]!.detail).toContain("18.3");
    const slower = evaluateTargets(run({ throughput: [tp("ours", 4, 1, 49_000), tp("reference", 4, 1, 1_000)] }));
    expect(slower[0]!.status).toBe("missed");
    expect(slower[1]!.status).toBe("met");
  });

  it("judges issue 11's goals on the scenarios they name: FIFO at 10 and 100 buckets, the 5v5 skill mode, memory", () => {
    const ranked = { ...tp("ours", 10, 10, 31_000), rules: "ranked5v5" as const };
    const byTarget = (r: BenchResults) => Object.fromEntries(evaluateTargets(r).map((t) => [t.target, t]));
    const v = byTarget(run({ throughput: [tp("ours", 4, 10, 56_000), tp("ours", 4, 100, 40_000), ranked] }));
    expect(v["≥ 55k players/s, 4-player FIFO sessions at 10 buckets"]!.status).toBe("met");
    expect(v["≥ 45k players/s, 4-player FIFO sessions at 100 buckets"]!.status).toBe("missed");
    expect(v["≥ 45k players/s, 4-player FIFO sessions at 100 buckets"]!.detail).toContain("89% of the goal");
    expect(v["≥ 30k players/s, 5v5 skill mode with parties"]!).toMatchObject({
      status: "met",
      detail: expect.stringContaining("5v5 skill+parties × 10b") as string,
    });
    expect(v["≤ 350 B of Redis memory per waiting player"]!.status).toBe("met");
    const none = byTarget(run({ throughput: [], memory: [{ design: "ours", players: 1000, bytesPerWaitingPlayer: 669 }] }));
    expect(none["≥ 30k players/s, 5v5 skill mode with parties"]!.status).toBe("not measured");
    expect(none["≤ 350 B of Redis memory per waiting player"]!.status).toBe("missed");
  });

  it("judges the longest single script call on the worst phase, shows the table and the chart, and says why when it could not run", () => {
    const phase = (pool: "fifo100" | "ranked5v5", name: string, longestMs: number) => ({
      pool,
      phase: name,
      calls: 100,
      longestMs,
      script: "enqueuePlayers",
      singleRunLongestMs: [longestMs * 2, longestMs] as [number, number],
    });
    const target = "longest single script call < 10 ms of Redis CPU at the largest batch and pool";
    const of = (r: BenchResults) => evaluateTargets(r).find((t) => t.target === target)!;
    const fine = run({
      longestCalls: {
        available: true,
        poolPlayers: 100_000,
        batchRequests: 500,
        phases: [phase("fifo100", "enqueue", 3.2), phase("ranked5v5", "assign", 4.7)],
      },
    });
    expect(of(fine)).toMatchObject({ status: "met", measured: "4.70 ms (enqueuePlayers)" });
    expect(of(fine).detail).toContain("ranked5v5 pool of 100k players, assign");
    const rep = buildReport(fine, { resultsDir: "bench/results" });
    expect(rep.markdown).toContain("| ranked5v5 | assign ");
    expect(rep.charts["longest-call.svg"]).toContain("<svg");
    const slow = run({ longestCalls: { available: true, poolPlayers: 100_000, batchRequests: 500, phases: [phase("fifo100", "expireStale", 10.4)] } });
    expect(of(slow).status).toBe("missed");
    const off = run({ longestCalls: { available: false, reason: "redis-server's /proc/1/schedstat cannot be read" } });
    expect(of(off)).toMatchObject({ status: "not measured", detail: "redis-server's /proc/1/schedstat cannot be read" });
    expect(buildReport(off, { resultsDir: "r" }).markdown).toContain("Not measured: redis-server's /proc/1/schedstat cannot be read.");
  });

  it("says 'not measured' for the end-to-end targets when the local runtime was unavailable, with the reason", () => {
    const r = run({ e2e: { available: false, reason: "local runtime unavailable: startLocalRuntime is not exported" } });
    const rep = buildReport(r, { resultsDir: "bench/results" });
    const e2eTargets = rep.targets.slice(2, 4);
    expect(e2eTargets.map((t) => t.status)).toEqual(["not measured", "not measured"]);
    expect(rep.markdown).toContain("**Not measured: local runtime unavailable: startLocalRuntime is not exported.**");
    expect(rep.charts["latency.svg"]).toBeUndefined();
  });

  it("judges episodes and the session-full latency from the end-to-end samples", () => {
    const base = {
      available: true as const,
      players: 8,
      sessionSize: 4,
      matched: 8,
      failed: 0,
      seconds: 1,
      requestToAddressMs: [10, 20],
      requestToToldMs: [10, 20, 30, 40, 50, 60, 70, 80],
      requestToEnqueuedMs: [1, 2],
      sessionFullToPublishedMs: [1, 2],
      publishedToToldMs: [3, 4],
      functionTimes: { addPlayers: { count: 1, meanMs: 2, p95Ms: 2, maxMs: 2 } },
      durableMetrics: { orchestratorEpisodes: 16, activityInvocations: 0, instances: 8 },
      invocationsPerMatched: { matchRequest: 2 },
      totalInvocationsPerMatched: 3.5,
      pollsPerPlayer: 2,
      ratePerSec: 100,
      processCpuPercent: 50,
      notes: [],
    };
    const good = buildReport(run({ e2e: { ...base, sessionFullToToldMs: [40, 60], orchestratorEpisodesPerMatched: 2 } }), { resultsDir: "r" });
    expect(good.targets[2]!.status).toBe("met");
    expect(good.targets[3]!.status).toBe("met");
    expect(good.charts["latency.svg"]).toContain("<svg");
    const bad = buildReport(run({ e2e: { ...base, sessionFullToToldMs: [150, 200], orchestratorEpisodesPerMatched: 3 } }), { resultsDir: "r" });
    expect(bad.targets[2]!.status).toBe("missed");
    expect(bad.targets[3]!.status).toBe("missed");
    expect(bad.markdown).toMatch(/Missed: .*orchestrator episodes/);
  });

  it("writes ratios next to absolute numbers and links every chart it produced", () => {
    const rep = buildReport(run(), { resultsDir: "bench/results" });
    expect(rep.markdown).toContain("**30.0×**"); // 60k / 2k
    expect(Object.keys(rep.charts).sort()).toEqual(["cost.svg", "ratio.svg", "round-trips.svg", "throughput.svg"]);
    for (const name of Object.keys(rep.charts)) expect(rep.markdown).toContain(`(bench/results/${name})`);
    expect(rep.charts["throughput.svg"]!.split('class="bar"').length - 1).toBe(4); // 2 scenarios x (ours, reference)
    expect(rep.console).toContain("4p × 1b");
  });
  it("judges the link ratio, the Colyseus peer and the Durable call counts, and says why a part was skipped", () => {
    const link = (ours: number, ref: number) => ({
      setting: { name: "~1 ms RTT (0.5 ms each way)", oneWayDelayMs: 0.5 },
      pingRttMs: 1.04,
      ours: tp("ours", 4, 10, ours),
      reference: tp("reference", 4, 10, ref),
    });
    const peer = {
      design: "colyseus" as const,
      version: "0.16.26",
      players: 1000,
      sessionSize: 4,
      inFlight: 400,
      seconds: 1,
      playersPerSec: 900,
      seated: 1000,
      rooms: 250,
      roomsNotFull: 0,
      roomsOverfilled: 0,
      timeToSeatMsP50: 3,
      timeToSeatMsP95: 9,
      timeToSeatMsP99: 20,
      serverCommandsPerPlayer: 11,
      redisCpuMicrosPerPlayer: 90,
      failures: 0,
      notes: [],
    };
    const byName = (r: BenchResults, start: string) => evaluateTargets(r).find((t) => t.target.startsWith(start))!;
    expect(byName(run({ links: [link(30_000, 200)], peer }), "≥ 100×").status).toBe("met"); // 150x
    expect(byName(run({ links: [link(30_000, 600)] }), "≥ 100×")).toMatchObject({ status: "missed", measured: expect.stringContaining("50.0×") as string });
    const skipped = byName(run({ linkSkipped: "emulated network link skipped: this kernel has no netem qdisc" }), "≥ 100×");
    expect(skipped).toMatchObject({ status: "not measured", detail: "emulated network link skipped: this kernel has no netem qdisc" });
    expect(byName(run({ peer }), "ahead of Colyseus").status).toBe("met"); // 60k vs 900
    expect(byName(run({ peer: { ...peer, playersPerSec: 70_000 } }), "ahead of Colyseus").status).toBe("missed");

    const e2e = (calls: Record<string, number>, perPoll: Record<string, number>) =>
      ({
        ...(run().e2e ?? {}),
        available: true,
        players: 8,
        sessionSize: 4,
        matched: 8,
        failed: 0,
        seconds: 1,
        requestToAddressMs: [],
        requestToToldMs: [],
        sessionFullToToldMs: [],
        functionTimes: {},
        orchestratorEpisodesPerMatched: 2,
        invocationsPerMatched: {},
        totalInvocationsPerMatched: 4,
        pollsPerPlayer: 1,
        ratePerSec: 10,
        processCpuPercent: 1,
        notes: [],
        durableCallsPerMatched: calls,
        durableCallsPerTicketPoll: perPoll,
      }) as BenchResults["e2e"];
    const good = evaluateTargets(run({ e2e: e2e({ start: 1, raiseEvent: 1 }, {}) }));
    expect(good.find((t) => t.target.startsWith("≤ 3 Durable"))!.status).toBe("met");
    expect(good.find((t) => t.target.startsWith("no Durable call"))!.status).toBe("met");
    const bad = evaluateTargets(run({ e2e: e2e({ start: 1, status: 2, raiseEvent: 1 }, { status: 1 }) }));
    expect(bad.find((t) => t.target.startsWith("≤ 3 Durable"))).toMatchObject({ status: "missed", measured: expect.stringContaining("4.00") as string });
    expect(bad.find((t) => t.target.startsWith("no Durable call"))!.status).toBe("missed");
    const md = buildReport(run({ linkSkipped: "emulated network link skipped: needs root" }), { resultsDir: "bench/results" }).markdown;
    expect(md).toContain("**Not measured: emulated network link skipped: needs root.**");
    expect(md).toContain("## Capacity of one regional deployment");
    expect(md).toMatch(/2000 actions\/s per capacity unit — Durable Task Scheduler Dedicated SKU page/);
  });

  it("says which mechanism delayed the link and why, with the relay's own cost, in the section, the target row and the console", () => {
    const relayLoad = { cpuMs: 300, wallMs: 1000, chunks: 6000, latenessP50Ms: -0.01, latenessP99Ms: 0.4 };
    const links = [
      {
        setting: { name: "~1 ms RTT (0.5 ms each way)", oneWayDelayMs: 0.5 },
        pingRttMs: 1.1,
        pingP50Ms: 1.04,
        pingP99Ms: 2.5,
        relayHoldMs: 0.42,
        relayLoad: { ours: { ...relayLoad, cpuMs: 50, chunks: 200 }, reference: relayLoad },
        ours: tp("ours", 4, 10, 30_000),
        reference: tp("reference", 4, 10, 600),
      },
    ];
    const linkMechanism = {
      kind: "relay" as const,
      why: "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM / sch_netem; tc said: Error: Specified qdisc kind is unknown.), so a userspace delay relay holds every chunk instead",
      vethPingP50Ms: 0.03,
      vethPingP99Ms: 0.12,
      relayHopPingP50Ms: 0.08,
      relayHopPingP99Ms: 1.3,
      relayIdleCpuMsPerSec: 0.3,
      relayMaxCorrectionMs: 0.15,
    };
    const rep = buildReport(run({ links, linkMechanism, config: { ...run().config, linkPlayers: 1000 } }), { resultsDir: "r" });
    const section = rep.markdown.slice(rep.markdown.indexOf("## Across an emulated network link"), rep.markdown.indexOf("## A real peer"));
    expect(section).toContain("**The delay is added by a userspace delay relay, not netem: this kernel has no netem qdisc");
    expect(section).toContain("p50 0.030 ms, p99 0.120 ms"); // the bare veth pair
    expect(section).toContain("1.040 / 2.500 ms"); // PING over the link
    expect(section).toContain("1.010 ms (configured 1.0)"); // added to the veth pair's p50
    expect(section).toContain("30% (50 µs/chunk)"); // relay CPU during the reference run
    expect(section).toContain("**50.0×**");
    const target = evaluateTargets(run({ links, linkMechanism })).find((t) => t.target.startsWith("≥ 100×"))!;
    expect(target).toMatchObject({ status: "missed", measured: expect.stringContaining("50.0×") as string });
    expect(target.detail).toContain("userspace delay relay (this kernel has no netem qdisc), PING p50 1.04 ms measured (veth pair alone 0.03 ms)");
    expect(rep.console).toContain("Link: delay by a userspace delay relay, not netem: this kernel has no netem qdisc");
    expect(rep.console).toMatch(/~1 ms RTT \(0\.5 ms each way\): PING p50 1\.040 .* = 50\.0×/);
  });

  it("judges the end-to-end ceiling: the last step that held, met from 1,000 players/s, and says why the next one broke", () => {
    const step = (ratePerSec: number, p95: number, held: boolean, why?: string) => ({
      ratePerSec,
      players: ratePerSec * 2,
      accepted: ratePerSec * 2,
      told: ratePerSec * 2,
      failed: 0,
      requestToToldP50Ms: p95 / 2,
      requestToToldP95Ms: p95,
      requestToToldP99Ms: p95,
      answerP95Ms: 5,
      sendLagP50Ms: 0.1,
      toldPerSec: ratePerSec,
      cpuPercent: { runtime: 90, loadGenerator: 10, redis: 5 },
      held,
      ...(why ? { why } : {}),
    });
    const ceiling = (ceilingPerSec: number, steps: ReturnType<typeof step>[]): BenchResults["ceiling"] => ({
      available: true,
      ceilingPerSec,
      p95BoundMs: 500,
      drainMs: 3000,
      stepSeconds: 2,
      steps,
      notes: [],
    });
    const target = (r: BenchResults) => evaluateTargets(r).find((t) => t.target.includes("end to end through the local runtime"))!;
    const missed = target(run({ ceiling: ceiling(400, [step(400, 200, true), step(800, 900, false, "p95 900 ms ≥ 500 ms")]) }));
    expect(missed).toMatchObject({ status: "missed", measured: "400 players/s (p95 200 ms)" });
    expect(missed.detail).toContain("at 800/s: p95 900 ms");
    expect(target(run({ ceiling: ceiling(1200, [step(1000, 300, true), step(1200, 450, true)]) })).status).toBe("met");
    expect(target(run()).status).toBe("not measured");
    const md = buildReport(run({ ceiling: ceiling(400, [step(400, 200, true), step(800, 900, false, "p95 900 ms ≥ 500 ms")]) }), { resultsDir: "r" }).markdown;
    expect(md).toContain("**Ceiling: 400 players/s**");
    expect(md).toContain("90 % · 10 % · 5 %");
  });
});
