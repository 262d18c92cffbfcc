/**
 * `npm run bench [-- --quick] [-- --only=floor,core,reference,memory,e2e] [-- --out=FILE] [-- --help]`
 *
 * Starts its own redis-server, measures in one run: the floor (raw round trips of that server), core
 * throughput through MatchmakingStore, the reference's access pattern, Redis memory per waiting player, and
 * (when the local runtime is available) end-to-end latency and invocation counts. Prints a table, writes
 * BENCHMARKS.md and bench/results/*.svg (+ results.json). Progress goes to stderr.
 */
import { cpus, loadavg, totalmem } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import * as prettier from "prettier";
import { startRedisServer } from "../local-runtime/redisServer";
import { percentile } from "../src/lib/percentile";
import {
  measureOurMemory,
  measureOurScriptCost,
  medianRun,
  measureReferenceMemory,
  runOurThroughput,
  runReferenceThroughput,
  type MemoryResult,
  type Scenario,
  type ThroughputResult,
} from "./core";
import { measureFloor, type FloorResult } from "./floor";
import { connect, parseInfo, progress, progressDone, type RawClient } from "./redisProbe";
import { runColyseus } from "./colyseus";
import { linkUnavailableReason, NO_DELAY, openLink, RELAY_MAX_CORRECTION_MS, type LinkSetting, type NetworkLink } from "./netLink";
import type { RelayStats } from "./delayRelay";
import { runEndToEnd, type EndToEndResult } from "./e2e";
import { runCeiling } from "./ceiling";
import { measureLongestCalls } from "./longestCall";
import { buildReport, type BenchResults, type LinkMechanismResult, type RelayLoad } from "./report";

export interface BenchConfig {
  quick: boolean;
  consumers: number;
  batchSize: number;
  /** Players per core scenario, the same for every design (ours, the reference, Colyseus). */
  players: number;
  /** Runs per scenario and design, interleaved; the report shows the median run (the machine is noisy). */
  repetitions: number;
  floorSeconds: number;
  memoryPlayersOurs: number;
  memoryPlayersReference: number;
  /** Players per design and link setting across the emulated network link (4-player sessions, 10 buckets). */
  linkPlayers: number;
  linkSettings: LinkSetting[];
  e2ePlayers: number;
  e2eRatePerSec: number;
  /**
   * The latency run uses a light rate (the local runtime is one Node process on a shared 2-core machine);
   * a second, heavier run (0 = none) shows where it saturates.
   */
  e2eLoadRatePerSec: number;
  sessionSizes: number[];
  bucketCounts: number[];
  /** Players per pool of the longest-script-call part (each of its two pools runs twice). */
  longestCallPlayers: number;
  /** The end-to-end ceiling: offered rates (players/s), stepped up until one does not hold, and seconds per step. */
  ceilingRates: number[];
  ceilingStepSeconds: number;
}

/** 0.5 ms each way is a function instance to Azure Managed Redis in one region; 2.5 ms each way a cross-zone or congested path. */
export const LINK_SETTINGS: LinkSetting[] = [
  { name: "~1 ms RTT (0.5 ms each way)", oneWayDelayMs: 0.5 },
  { name: "~5 ms RTT (2.5 ms each way)", oneWayDelayMs: 2.5 },
];

export function configFor(quick: boolean): BenchConfig {
  const shape = { quick, consumers: 4, batchSize: 100, e2eRatePerSec: 40, sessionSizes: [2, 4, 8], bucketCounts: [1, 10, 100], linkSettings: LINK_SETTINGS };
  return quick
    ? {
        ...shape,
        players: 8_000,
        repetitions: 1,
        floorSeconds: 1,
        memoryPlayersOurs: 10_000,
        memoryPlayersReference: 4_000,
        linkPlayers: 2_000,
        longestCallPlayers: 50_000,
        e2ePlayers: 120,
        e2eLoadRatePerSec: 0,
        ceilingRates: [50, 100, 200, 300, 400, 600, 800, 1000, 1200],
        ceilingStepSeconds: 2,
      }
    : {
        ...shape,
        players: 20_000,
        repetitions: 3,
        floorSeconds: 3,
        memoryPlayersOurs: 50_000,
        memoryPlayersReference: 10_000,
        linkPlayers: 8_000,
        longestCallPlayers: 100_000,
        e2ePlayers: 600,
        e2eLoadRatePerSec: 100,
        ceilingRates: [50, 100, 200, 300, 400, 500, 750, 1000, 1250, 1500, 2000],
        ceilingStepSeconds: 8,
      };
}

export const BENCH_PARTS = ["floor", "core", "reference", "colyseus", "link", "memory", "calls", "e2e", "ceiling"] as const;

export const USAGE = `usage: npm run bench [-- options]
  --quick            a smaller run of everything (about a minute or two)
  --only=PARTS       comma-separated parts: ${BENCH_PARTS.join(",")}
  --out=FILE         the Markdown report (default BENCHMARKS.md); its charts and results.json go to
                     bench/results/ for the default report, else to <FILE without .md>-results/ beside it
  --from=FILE        rewrite the report and charts from a recorded results.json instead of measuring
  --help             this text
Parts that need root (the emulated network link) are skipped with one line where they cannot run.`;

export interface BenchArgs {
  help: boolean;
  quick: boolean;
  only?: Set<string>;
  out: string;
  from?: string;
}

/** The command line (util.parseArgs; unknown flags and unknown parts are errors). */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      from: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const only = values.only
    ? new Set(
        values.only
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : undefined;
  for (const part of only ?? [])
    if (!(BENCH_PARTS as readonly string[]).includes(part)) throw new Error(`--only: unknown part "${part}" (known: ${BENCH_PARTS.join(", ")})`);
  return { help: values.help ?? false, quick: values.quick ?? false, only, out: values.out ?? "BENCHMARKS.md", from: values.from };
}

/** Where the report, its charts and results.json go, and the charts' folder as the report links it. */
export function outputPaths(root: string, out: string): { report: string; resultsDir: string; link: string } {
  const report = resolve(root, out);
  const resultsDir = report === resolve(root, "BENCHMARKS.md") ? join(root, "bench", "results") : report.replace(/\.md$/i, "") + "-results";
  return { report, resultsDir, link: relative(dirname(report), resultsDir).split(sep).join("/") };
}

export async function writeOutputs(root: string, results: BenchResults, out: string): Promise<{ report: string; resultsDir: string }> {
  const paths = outputPaths(root, out);
  const report = buildReport(results, { resultsDir: paths.link });
  mkdirSync(paths.resultsDir, { recursive: true });
  mkdirSync(dirname(paths.report), { recursive: true });
  for (const [name, svg] of Object.entries(report.charts)) writeFileSync(join(paths.resultsDir, name), svg);
  writeFileSync(join(paths.resultsDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  // Formatted as the repository formats Markdown (npm test checks it), so a fresh report never fails the format check.
  const options = (await prettier.resolveConfig(paths.report)) ?? {};
  writeFileSync(paths.report, await prettier.format(report.markdown, { ...options, filepath: paths.report, parser: "markdown" }));
  console.log(report.console);
  const shown = (p: string) => relative(process.cwd(), p) || ".";
  console.log(
    `\nWrote ${shown(paths.report)}, ${shown(paths.resultsDir)}/*.svg and ${shown(paths.resultsDir)}/results.json (run took ${(results.durationSeconds ?? NaN).toFixed(1)} s).`,
  );
  return paths;
}

type Want = (part: string) => boolean;

function scenariosOf(cfg: BenchConfig): Scenario[] {
  const out: Scenario[] = [];
  for (const sessionSize of cfg.sessionSizes)
    for (const buckets of cfg.bucketCounts) out.push({ sessionSize, buckets, players: cfg.players, consumers: cfg.consumers, batchSize: cfg.batchSize });
  out.push({ sessionSize: 10, buckets: 10, players: cfg.players, consumers: cfg.consumers, batchSize: cfg.batchSize, rules: "ranked5v5" });
  return out;
}

/** Ours and the reference on loopback, same players, interleaved runs; the median run of each is kept. */
async function measureCore(cfg: BenchConfig, url: string, admin: RawClient, want: Want, results: BenchResults): Promise<void> {
  const scenarios = scenariosOf(cfg);
  for (const [index, sc] of scenarios.entries()) {
    const label = `size ${sc.sessionSize}, ${sc.buckets} bucket${sc.buckets > 1 ? "s" : ""}`;
    const ours: ThroughputResult[] = [];
    const ref: ThroughputResult[] = [];
    for (let rep = 1; rep <= cfg.repetitions; rep++) {
      const of = cfg.repetitions > 1 ? ` (run ${rep}/${cfg.repetitions})` : "";
      const n = index + 1;
      if (want("core")) {
        progress(`core ${n}/${scenarios.length}: ours, ${label}${of}`);
        ours.push(await runOurThroughput(url, admin, sc, `o${n}-${rep}`));
      }
      if (want("reference")) {
        progress(`core ${n}/${scenarios.length}: reference, ${label}${of}`);
        ref.push(await runReferenceThroughput(url, admin, sc, `r${n}-${rep}`));
      }
    }
    if (ours.length) results.throughput.push(medianRun(ours));
    if (ref.length) results.throughput.push(medianRun(ref));
  }
}

/** The relay's counters over one design's run, for the report. */
function relayLoad(stats: RelayStats | undefined): RelayLoad | undefined {
  if (!stats) return undefined;
  return {
    cpuMs: stats.cpuMs,
    wallMs: stats.wallMs,
    chunks: stats.chunks,
    latenessP50Ms: percentile(stats.latenessMs, 50),
    latenessP99Ms: percentile(stats.latenessMs, 99),
  };
}

/** How the link adds its delay, with the relay's own cost (its hop without delay, its CPU while idle). */
async function describeLink(link: NetworkLink): Promise<LinkMechanismResult> {
  const out: LinkMechanismResult = { kind: link.mechanism, why: link.why, vethPingP50Ms: link.baseline.p50Ms, vethPingP99Ms: link.baseline.p99Ms };
  if (link.mechanism !== "relay") return out;
  const hop = await link.setDelay(NO_DELAY);
  await link.relayStats(true);
  await sleep(1000);
  const idle = await link.relayStats(true);
  return {
    ...out,
    relayMaxCorrectionMs: RELAY_MAX_CORRECTION_MS,
    relayHopPingP50Ms: hop.ping.p50Ms,
    relayHopPingP99Ms: hop.ping.p99Ms,
    relayIdleCpuMsPerSec: idle ? (idle.cpuMs / idle.wallMs) * 1000 : undefined,
  };
}

/** Ours and the reference across the emulated link, for every link setting; one clear line when it cannot run. */
async function measureLinks(cfg: BenchConfig, results: BenchResults): Promise<void> {
  const why = linkUnavailableReason();
  if (why || !cfg.linkSettings.length) {
    results.linkSkipped = `emulated network link skipped: ${why ?? "no link settings"}`;
    progress(results.linkSkipped);
    return;
  }
  let link: NetworkLink;
  try {
    link = await openLink();
  } catch (err) {
    results.linkSkipped = `emulated network link skipped: ${err instanceof Error ? err.message : String(err)}`;
    progress(results.linkSkipped);
    return;
  }
  const admin = await connect(link.url);
  try {
    progress(`link: delay by ${link.mechanism} (${link.why})`);
    results.linkMechanism = await describeLink(link);
    for (const setting of cfg.linkSettings) {
      progress(`link ${setting.name}: ${link.mechanism === "relay" ? "calibrating the relay" : "netem"}`);
      const delay = await link.setDelay(setting);
      const sc: Scenario = { sessionSize: 4, buckets: 10, players: cfg.linkPlayers, consumers: cfg.consumers, batchSize: cfg.batchSize };
      const shown = `PING p50 ${delay.ping.p50Ms.toFixed(2)} ms${delay.relayHoldMs !== undefined ? `, relay hold ${delay.relayHoldMs.toFixed(3)} ms` : ""}`;
      // Ours is short and CPU-bound (noisy): the median of `repetitions` runs, as on loopback. The reference is bound by
      // the link's round trips (steady) and long: one run.
      await link.relayStats(true);
      const oursRuns: ThroughputResult[] = [];
      for (let rep = 1; rep <= cfg.repetitions; rep++) {
        progress(`link ${setting.name} (${shown}): ours${cfg.repetitions > 1 ? ` (run ${rep}/${cfg.repetitions})` : ""}`);
        oursRuns.push(await runOurThroughput(link.url, admin, sc, `link-o${rep}`));
      }
      const ours = medianRun(oursRuns);
      const oursRelay = relayLoad(await link.relayStats(true));
      progress(`link ${setting.name} (${shown}): reference`);
      const reference = await runReferenceThroughput(link.url, admin, sc, "link-r");
      const referenceRelay = relayLoad(await link.relayStats(true));
      (results.links ??= []).push({
        setting,
        pingRttMs: delay.ping.meanMs,
        pingP50Ms: delay.ping.p50Ms,
        pingP99Ms: delay.ping.p99Ms,
        relayHoldMs: delay.relayHoldMs,
        relayLoad: oursRelay && referenceRelay ? { ours: oursRelay, reference: referenceRelay } : undefined,
        ours,
        reference,
      });
    }
  } finally {
    await admin.close().catch(() => undefined);
    await link.close();
  }
}

async function measureMemory(cfg: BenchConfig, url: string, admin: RawClient, results: BenchResults): Promise<void> {
  progress("Redis CPU per operation: enqueue and assign apart");
  results.scriptCost = await measureOurScriptCost(url, admin, cfg.memoryPlayersOurs);
  progress("memory: ours, players waiting");
  results.memory.push(await measureOurMemory(url, admin, cfg.memoryPlayersOurs, cfg.consumers));
  progress("memory: reference, players waiting");
  results.memory.push(await measureReferenceMemory(url, admin, cfg.memoryPlayersReference, cfg.consumers));
}

async function measureEndToEnd(cfg: BenchConfig, root: string, url: string, admin: RawClient, results: BenchResults): Promise<void> {
  progress("end to end through the local runtime");
  await admin.sendCommand(["FLUSHALL", "SYNC"]);
  results.e2e = await runEndToEnd({ root, redisUrl: url, players: cfg.e2ePlayers, ratePerSec: cfg.e2eRatePerSec, sessionSize: 4, progress });
  if (cfg.e2eLoadRatePerSec > 0 && results.e2e.available) {
    progress(`end to end at ${cfg.e2eLoadRatePerSec} players/s`);
    await admin.sendCommand(["FLUSHALL", "SYNC"]);
    results.e2eLoad = await runEndToEnd({ root, redisUrl: url, players: cfg.e2ePlayers, ratePerSec: cfg.e2eLoadRatePerSec, sessionSize: 4, progress });
  }
}

async function newResults(quick: boolean, cfg: BenchConfig, admin: RawClient): Promise<BenchResults> {
  const serverInfo = parseInfo(String(await admin.sendCommand(["INFO", "server"])));
  return {
    startedAt: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: serverInfo["redis_version"] ?? "unknown",
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart: loadavg()[0]!,
    },
    config: { ...cfg, ourPlayers: cfg.players, referencePlayers: cfg.players },
    throughput: [],
    links: [],
    memory: [],
    notes: [],
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const root = resolve(__dirname, "..", "..");
  if (args.from) {
    await writeOutputs(root, JSON.parse(readFileSync(resolve(root, args.from), "utf8")) as BenchResults, args.out);
    return;
  }
  const cfg = configFor(args.quick);
  const want: Want = (part) => !args.only || args.only.has(part);
  const t0 = performance.now();
  progress(`starting redis-server (${args.quick ? "quick" : "full"} mode)`);
  const redis = await startRedisServer();
  const admin = await connect(redis.url);
  const results = await newResults(args.quick, cfg, admin);
  try {
    if (want("floor")) {
      progress("floor: PING and no-op EVALSHA round trips");
      results.floor = await measureFloor(redis.url, { connections: cfg.consumers, seconds: cfg.floorSeconds });
    }
    await measureCore(cfg, redis.url, admin, want, results);
    if (want("link")) await measureLinks(cfg, results);
    if (want("memory")) await measureMemory(cfg, redis.url, admin, results);
    if (want("calls")) results.longestCalls = await measureLongestCalls(redis.url, admin, cfg.longestCallPlayers);
    if (want("e2e")) await measureEndToEnd(cfg, root, redis.url, admin, results);
    if (want("ceiling")) {
      progress("end-to-end ceiling: open-loop load from a separate process");
      await admin.sendCommand(["FLUSHALL", "SYNC"]);
      results.ceiling = await runCeiling({ root, redisUrl: redis.url, rates: cfg.ceilingRates, stepSeconds: cfg.ceilingStepSeconds, progress });
    }
    // Colyseus last: after it has run in this process, the local runtime no longer receives the app's
    // registrations (the app's @azure/functions falls back to its test mode), so nothing of ours runs after it.
    if (want("colyseus")) {
      progress(`peer: Colyseus joinOrCreate, ${cfg.players} players into rooms of 4`);
      results.peer = await runColyseus(redis.url, admin, { players: cfg.players, sessionSize: 4, inFlight: cfg.consumers * cfg.batchSize });
    }
  } finally {
    await admin.close().catch(() => undefined);
    await redis.stop();
  }
  results.durationSeconds = (performance.now() - t0) / 1000;
  results.machine.loadAverageAtEnd = loadavg()[0]!;
  progressDone();
  await writeOutputs(root, results, args.out);
}

// Types the report needs; re-exported so tests can build a report from a fabricated run.
export type { BenchResults, EndToEndResult, FloorResult, MemoryResult, ThroughputResult };

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      progressDone();
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
