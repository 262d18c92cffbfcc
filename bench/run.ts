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
import { startRedisServer } from "../local-runtime/redisServer";
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
import { connect, parseInfo, progress, progressDone } from "./redisProbe";
import { runEndToEnd, type EndToEndResult } from "./e2e";
import { buildReport, type BenchResults } from "./report";

export interface BenchConfig {
  quick: boolean;
  consumers: number;
  batchSize: number;
  ourPlayers: number;
  referencePlayers: number;
  /** Runs per scenario and design, interleaved; the report shows the median run (the machine is noisy). */
  repetitions: number;
  floorSeconds: number;
  memoryPlayersOurs: number;
  memoryPlayersReference: number;
  e2ePlayers: number;
  e2eRatePerSec: number;
  /**
   * The latency run uses a light rate (the local runtime is one Node process on a shared 2-core machine);
   * a second, heavier run (0 = none) shows where it saturates.
   */
  e2eLoadRatePerSec: number;
  sessionSizes: number[];
  bucketCounts: number[];
}

export function configFor(quick: boolean): BenchConfig {
  const shape = { quick, consumers: 4, batchSize: 100, e2eRatePerSec: 40, sessionSizes: [2, 4, 8], bucketCounts: [1, 10, 100] };
  return quick
    ? {
        ...shape,
        ourPlayers: 16_000,
        referencePlayers: 1_600,
        repetitions: 1,
        floorSeconds: 1,
        memoryPlayersOurs: 10_000,
        memoryPlayersReference: 4_000,
        e2ePlayers: 120,
        e2eLoadRatePerSec: 0,
      }
    : {
        ...shape,
        ourPlayers: 40_000,
        referencePlayers: 4_000,
        repetitions: 3,
        floorSeconds: 3,
        memoryPlayersOurs: 50_000,
        memoryPlayersReference: 10_000,
        e2ePlayers: 600,
        e2eLoadRatePerSec: 100,
      };
}

export const BENCH_PARTS = ["floor", "core", "reference", "memory", "e2e"] as const;

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

export function writeOutputs(root: string, results: BenchResults, out: string): { report: string; resultsDir: string } {
  const paths = outputPaths(root, out);
  const report = buildReport(results, { resultsDir: paths.link });
  mkdirSync(paths.resultsDir, { recursive: true });
  mkdirSync(dirname(paths.report), { recursive: true });
  for (const [name, svg] of Object.entries(report.charts)) writeFileSync(join(paths.resultsDir, name), svg);
  writeFileSync(join(paths.resultsDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(paths.report, report.markdown);
  console.log(report.console);
  const shown = (p: string) => relative(process.cwd(), p) || ".";
  console.log(
    `\nWrote ${shown(paths.report)}, ${shown(paths.resultsDir)}/*.svg and ${shown(paths.resultsDir)}/results.json (run took ${(results.durationSeconds ?? NaN).toFixed(1)} s).`,
  );
  return paths;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const root = resolve(__dirname, "..", "..");
  if (args.from) {
    writeOutputs(root, JSON.parse(readFileSync(resolve(root, args.from), "utf8")) as BenchResults, args.out);
    return;
  }
  const cfg = configFor(args.quick);
  const want = (part: string): boolean => !args.only || args.only.has(part);
  const startedAt = new Date();
  const t0 = performance.now();
  progress(`starting redis-server (${args.quick ? "quick" : "full"} mode)`);
  const redis = await startRedisServer();
  const admin = await connect(redis.url);
  const serverInfo = parseInfo(String(await admin.sendCommand(["INFO", "server"])));
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    mode: args.quick ? "quick" : "full",
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: serverInfo["redis_version"] ?? "unknown",
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart: loadavg()[0]!,
    },
    config: cfg,
    throughput: [],
    memory: [],
    notes: [],
  };
  try {
    if (want("floor")) {
      progress("floor: PING and no-op EVALSHA round trips");
      results.floor = await measureFloor(redis.url, { connections: cfg.consumers, seconds: cfg.floorSeconds });
    }
    const scenarios: Scenario[] = [];
    for (const sessionSize of cfg.sessionSizes)
      for (const buckets of cfg.bucketCounts) scenarios.push({ sessionSize, buckets, players: 0, consumers: cfg.consumers, batchSize: cfg.batchSize });
    let n = 0;
    for (const sc of scenarios) {
      n++;
      const label = `size ${sc.sessionSize}, ${sc.buckets} bucket${sc.buckets > 1 ? "s" : ""}`;
      const ours: ThroughputResult[] = [];
      const ref: ThroughputResult[] = [];
      for (let rep = 1; rep <= cfg.repetitions; rep++) {
        const of = cfg.repetitions > 1 ? ` (run ${rep}/${cfg.repetitions})` : "";
        if (want("core")) {
          progress(`core ${n}/${scenarios.length}: ours, ${label}${of}`);
          ours.push(await runOurThroughput(redis.url, admin, { ...sc, players: cfg.ourPlayers }, `o${n}-${rep}`));
        }
        if (want("reference")) {
          progress(`core ${n}/${scenarios.length}: reference, ${label}${of}`);
          ref.push(await runReferenceThroughput(redis.url, admin, { ...sc, players: cfg.referencePlayers }, `r${n}-${rep}`));
        }
      }
      if (ours.length) results.throughput.push(medianRun(ours));
      if (ref.length) results.throughput.push(medianRun(ref));
    }
    if (want("memory")) {
      progress("Redis CPU per operation: enqueue and assign apart");
      results.scriptCost = await measureOurScriptCost(redis.url, admin, cfg.memoryPlayersOurs);
      progress("memory: ours, players waiting");
      results.memory.push(await measureOurMemory(redis.url, admin, cfg.memoryPlayersOurs, cfg.consumers));
      progress("memory: reference, players waiting");
      results.memory.push(await measureReferenceMemory(redis.url, admin, cfg.memoryPlayersReference, cfg.consumers));
    }
    if (want("e2e")) {
      progress("end to end through the local runtime");
      await admin.sendCommand(["FLUSHALL", "SYNC"]);
      results.e2e = await runEndToEnd({ root, redisUrl: redis.url, players: cfg.e2ePlayers, ratePerSec: cfg.e2eRatePerSec, sessionSize: 4, progress });
      if (cfg.e2eLoadRatePerSec > 0 && results.e2e.available) {
        progress(`end to end at ${cfg.e2eLoadRatePerSec} players/s`);
        await admin.sendCommand(["FLUSHALL", "SYNC"]);
        results.e2eLoad = await runEndToEnd({
          root,
          redisUrl: redis.url,
          players: cfg.e2ePlayers,
          ratePerSec: cfg.e2eLoadRatePerSec,
          sessionSize: 4,
          progress,
        });
      }
    }
  } finally {
    await admin.close().catch(() => undefined);
    await redis.stop();
  }
  results.durationSeconds = (performance.now() - t0) / 1000;
  results.machine.loadAverageAtEnd = loadavg()[0]!;
  progressDone();

  writeOutputs(root, results, args.out);
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
