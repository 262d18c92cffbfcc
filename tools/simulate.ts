/**
 * `npm run simulate -- --players N --servers M [--mode duel|squad|mixed] [--regions a,b] [--url http://localhost:7071]`
 *
 * Plays a crowd against the matchmaker through its public HTTP API only (tools/simulation/: game servers,
 * players, consistency checks). A live progress line goes to stderr; then a summary (matched, timed out,
 * time-to-match percentiles, orchestrator episodes per player, consistency checks) and an SVG histogram of
 * time-to-match.
 *
 * Without --url it starts the local runtime in this process (development only), unless `npm start` is
 * already running on the same Redis and key prefix: then it says so and asks for --url.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_FUNCTION_KEY } from "../local-runtime/host/runtime";
import { findRunningLocalRuntime, secondRuntimeMessage } from "./runtimeDetection";
import { runSimulation, timeToMatchChart } from "./simulation/run";
import { pollingClient } from "./simulation/player";
import { identityPushClient, pushClient } from "./simulation/pushPlayer";
import type { SimulationOptions, SimulationResult } from "./simulation/types";
import { parseMatchModes, modeSizes } from "../src/config/matchModes";
import type { ModeRules } from "../src/domain/modeRules";
import { DEFAULT_POPULATION, parsePopulation, type Population } from "./simulation/population";
import { qualityChart } from "./simulation/rules";
import { LATENCY_LAB_MODES, LATENCY_LAB_REGIONS, latencyPopulation, latencyReport, latencyTable, partyPlaces, type LatencyReport } from "./simulation/latency";
import { progressWriter } from "./simulation/progress";

export { planPlayers, runSimulation, timeToMatchChart } from "./simulation/run";
export type { PlayerResult, SimulationOptions, SimulationResult } from "./simulation/types";

export const USAGE = `usage: npm run simulate -- [options]
  --players N          players to simulate (default 100)
  --servers M          game servers (default players / 4)
  --mode NAME          a mode of MATCH_MODES, or "mixed" (default mixed)
  --regions a,b        regions to spread players and servers over (default MATCH_REGIONS)
  --url URL            a running matchmaker (npm start, func start, or Azure); without it the local runtime
                       starts in this process (not next to a running npm start: pass --url then)
  --key KEY            function key for the server API (default: the local runtime's)
  --game-ms MS         how long a game lasts before its server releases itself (default 1000)
  --poll-ms MS         player poll interval (default 250)
  --push               players use the client library: push over Web PubSub, polling only as the fallback
  --identity           with --push: PLAYER_AUTH=jwt, each player gets a JWT from the local runtime's development
                       issuer and opens its push connection before it asks for a ticket
                       (npm start and an in-process runtime play Web PubSub; on Azure it is deployed)
  --timeout-s S        MATCH_TIMEOUT_SECONDS of an in-process runtime; players wait S + 60 s at most (default 60)
  --rate N             players arriving per second (default: all at once)
  --port N             HTTP port of the in-process runtime (default: a free one)
  --chart FILE         where to write the time-to-match histogram (default simulate-time-to-match.svg)
  --rules FILE         the rule-set lab: FILE holds a MATCH_MODES object (e.g. {"ranked":{"teams":2,"teamSize":5,
                       "maxPartySize":5,"skill":{"window":200,"widen":[{"afterSeconds":15,"window":400}]}}}); the
                       in-process runtime runs with it (with --url the target must be configured alike). --mode
                       picks its mode (default the first). Reports wait p50/p95 against skill spread p50/p95 and
                       team gap, checks every match kept its rules, and charts quality against wait
                       (--chart, default simulate-quality.svg)
  --population SPEC    the lab's players (default ${DEFAULT_POPULATION}):
                         skill=normal(MEAN,SD) | uniform(MIN,MAX) | const(V)   a leader's skill
                         party=SIZE:WEIGHT,...        party sizes (leader included) by relative weight, e.g. 1:70,2:20,3:10
                         partyskill=normal(0,100)     each other member's skill as an offset from its leader's
                         seed=N                       random seed (the same SPEC and seed, the same players)
  --latency            regions chosen by latency (issue 14): the players are spread over three regions
                       (--regions, default ${LATENCY_LAB_REGIONS.join(",")}; shares 50/30/20), each with its latency to every
                       region, and played twice: reporting latencies (the in-process runtime serves the regions as
                       one zone, mode ${Object.keys(LATENCY_LAB_MODES)[0]} ${JSON.stringify(LATENCY_LAB_MODES.geo)}, or --rules FILE), and
                       forced into their nearest region. Reports matched share, wait and latency percentiles of both;
                       with --rules FILE the players are the lab's --population (skills, parties; a party reports
                       its leader's latencies) and each run also reports skill spread and team gap
  --help               this text`;

const OPTIONS = {
  players: { type: "string" },
  servers: { type: "string" },
  mode: { type: "string" },
  regions: { type: "string" },
  url: { type: "string" },
  key: { type: "string" },
  "game-ms": { type: "string" },
  "poll-ms": { type: "string" },
  "timeout-s": { type: "string" },
  rate: { type: "string" },
  port: { type: "string" },
  chart: { type: "string" },
  push: { type: "boolean" },
  rules: { type: "string" },
  population: { type: "string" },
  identity: { type: "boolean" },
  latency: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface SimulateArgs {
  help: boolean;
  players: number;
  servers: number;
  mode: string;
  regions: string[];
  url?: string;
  key?: string;
  gameMs: number;
  pollMs: number;
  timeoutSeconds?: number;
  rate?: number;
  port: number;
  chart: string;
  push: boolean;
  /** The rule-set lab: the MATCH_MODES object of --rules, and the parsed --population. */
  rules?: { text: string; modes: Record<string, ModeRules> };
  population?: Population;
  identity: boolean;
  /** The latency comparison (tools/simulation/latency.ts). */
  latency: boolean;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return v;
}

/** Parses the command line (util.parseArgs; unknown flags are errors). */
export function parseSimulateArgs(argv: string[]): SimulateArgs {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const players = positiveNumber("players", v.players, 100);
  if (v.population !== undefined && v.rules === undefined) throw new Error("--population needs --rules FILE (the rule set to run it through)");
  const latency = v.latency ?? false;
  const rules = v.rules === undefined ? (latency ? labRules(JSON.stringify(LATENCY_LAB_MODES)) : undefined) : readRules(v.rules);
  return {
    latency,
    help: v.help ?? false,
    players,
    servers: positiveNumber("servers", v.servers, Math.ceil(players / 4)),
    mode: v.mode ?? (rules ? Object.keys(rules.modes)[0]! : "mixed"),
    regions: (v.regions ?? (latency ? LATENCY_LAB_REGIONS.join(",") : ""))
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean),
    url: v.url,
    key: v.key,
    gameMs: positiveNumber("game-ms", v["game-ms"], 1000),
    pollMs: positiveNumber("poll-ms", v["poll-ms"], 250),
    timeoutSeconds: v["timeout-s"] === undefined ? undefined : positiveNumber("timeout-s", v["timeout-s"], 60),
    rate: v.rate === undefined ? undefined : positiveNumber("rate", v.rate, 0),
    port: positiveNumber("port", v.port, 0),
    chart: resolve(v.chart ?? (rules ? "simulate-quality.svg" : "simulate-time-to-match.svg")),
    push: (v.push ?? false) || (v.identity ?? false),
    identity: v.identity ?? false,
    // --latency alone plays its solo lab mode; with --rules FILE the lab's population (skills, parties) too.
    ...(rules ? { rules, ...(latency && v.rules === undefined ? {} : { population: parsePopulation(v.population ?? DEFAULT_POPULATION) }) } : {}),
  };
}

/** The --rules file: a MATCH_MODES object, checked as the app checks it at start (every problem listed). */
export function readRules(file: string): { text: string; modes: Record<string, ModeRules> } {
  return labRules(readFileSync(file, "utf8"), `--rules ${file}`);
}

function labRules(text: string, what = "the rule set"): { text: string; modes: Record<string, ModeRules> } {
  const file = what;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const parsed = parseMatchModes(value);
  if (parsed.problems.length) throw new Error(`${file}:\n  - ${parsed.problems.join("\n  - ")}`);
  return { text: JSON.stringify(value), modes: parsed.modes };
}

interface Target {
  baseUrl: string;
  key: string;
  modes: Record<string, number>;
  regions: string[];
  /** Orchestrator episodes so far, when the target tells (the local runtime does; Azure does not). */
  episodes(): Promise<number | undefined>;
  stop(): Promise<void>;
}

const appDir = (): string => resolve(__dirname, "..", "..");
const envModes = (): Record<string, number> => JSON.parse(process.env.MATCH_MODES ?? '{"duel":2,"squad":4}') as Record<string, number>;

/** Reads the orchestrator episode counter of a local runtime in another process; undefined elsewhere. */
async function remoteEpisodes(baseUrl: string): Promise<number | undefined> {
  try {
    const r = await fetch(`${baseUrl}/runtime/local/metrics`);
    if (!r.ok) return undefined;
    return ((await r.json()) as { durable?: { orchestratorEpisodes?: number } }).durable?.orchestratorEpisodes;
  } catch {
    return undefined;
  }
}

/** The local runtime in this process (the one `npm start` runs), after making sure no `npm start` runs already. */
async function inProcessRuntime(a: SimulateArgs): Promise<Target> {
  const running = await findRunningLocalRuntime(appDir());
  if (running) throw new Error(secondRuntimeMessage(running));
  const { startLocalRuntime } = await import("../local-runtime/host/runtime.js");
  const env: Record<string, string> = {};
  // The latency comparison serves its regions as one zone: a ticket may be placed in any of them.
  if (a.regions.length) env.MATCH_REGIONS = JSON.stringify(a.latency ? [{ zone: "sim", regions: a.regions }] : a.regions);
  if (a.timeoutSeconds !== undefined) env.MATCH_TIMEOUT_SECONDS = String(a.timeoutSeconds);
  if (a.rules) Object.assign(env, { MATCH_MODES: a.rules.text, DEFAULT_MODE: a.mode });
  if (a.identity) env.PLAYER_AUTH = "jwt";
  const rt = await startLocalRuntime({ appDir: appDir(), port: a.port, env, log: () => undefined });
  console.error(`Started the local runtime at ${rt.baseUrl} (development only).`);
  return {
    baseUrl: rt.baseUrl,
    key: a.key ?? process.env.LOCAL_FUNCTION_KEY ?? rt.keys.functionKeys[0]!,
    modes: a.rules ? modeSizes(a.rules.modes) : envModes(),
    regions: a.regions.length ? a.regions : (JSON.parse(process.env.MATCH_REGIONS ?? '["westeurope"]') as string[]),
    episodes: () => Promise.resolve(rt.durable()?.metrics().orchestratorEpisodes),
    stop: () => rt.stop(),
  };
}

function remoteTarget(a: SimulateArgs, url: string): Target {
  return {
    baseUrl: url,
    // The local runtime's function key unless told otherwise (see the banner of npm start).
    key: a.key ?? process.env.LOCAL_FUNCTION_KEY ?? DEFAULT_FUNCTION_KEY,
    modes: a.rules ? modeSizes(a.rules.modes) : envModes(),
    regions: a.regions.length ? a.regions : ["westeurope"],
    episodes: () => remoteEpisodes(url),
    stop: () => Promise.resolve(),
  };
}

function summary(a: SimulateArgs, t: Target, result: SimulationResult, episodes: number | undefined): string {
  const fmt = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : "n/a");
  return [
    "",
    `Players: ${a.players}   servers: ${a.servers}   regions: ${t.regions.join(", ")}   duration: ${(result.durationMs / 1000).toFixed(1)} s`,
    `Matched: ${result.matched}   timed out: ${result.timedOut}   failed: ${result.failed}   unfinished: ${result.unfinished}`,
    `Time to match: p50 ${fmt(result.p50)}   p95 ${fmt(result.p95)}   p99 ${fmt(result.p99)}`,
    `Players: ${a.identity ? "push, connected before the ticket with a player JWT (PLAYER_AUTH=jwt)" : a.push ? "push (client library: Web PubSub, polling fallback)" : `polling every ${a.pollMs} ms`}   told after their match was made: p50 ${fmt(result.toldAfterMatch.p50)}   p99 ${fmt(result.toldAfterMatch.p99)} (${result.toldAfterMatch.players} players)   status reads per matched player: ${result.statusReadsPerMatched.toFixed(2)}`,
    ...(a.push
      ? [
          `  told by push: ${result.toldAfterMatch.byPush.players} players, p50 ${fmt(result.toldAfterMatch.byPush.p50)}   p99 ${fmt(result.toldAfterMatch.byPush.p99)}` +
            `   connected only after their match: ${result.toldAfterMatch.connectedAfterMatch.players} players (connected p50 ${fmt(result.toldAfterMatch.connectedAfterMatch.connectedP50)} after it; their ticket answer p50 ${fmt(result.toldAfterMatch.connectedAfterMatch.ticketAnsweredP50)})`,
        ]
      : []),
    `Sessions: ${result.sessions.size}   server releases: ${result.releases}   HTTP retries: ${result.httpErrors}`,
    `Orchestrator episodes per player: ${episodes === undefined ? "n/a (remote runtime; see the host's metrics)" : (episodes / Math.max(1, a.players)).toFixed(2)}`,
    `Consistency: ${result.problems.length ? `${result.problems.length} problem(s):\n  ${result.problems.slice(0, 20).join("\n  ")}` : "ok (every session full, on one server, nobody twice)"}`,
    `Chart: ${a.chart}`,
  ].join("\n");
}

/** The lab's figures: how long players waited against how good their matches were. */
export function rulesSummary(r: NonNullable<SimulationResult["rules"]>): string {
  const f = (v: number, unit = "") => (Number.isFinite(v) ? `${Math.round(v * 10) / 10}${unit}` : "n/a");
  return [
    `Rule set, mode ${r.mode}: matched ${(r.matchedShare * 100).toFixed(1)}% of ${r.players} players in ${r.matches.length} matches`,
    `  wait (client, s):               p50 ${f(r.waitSeconds.p50)}   p95 ${f(r.waitSeconds.p95)}`,
    `  longest wait in a match (s):    p50 ${f(r.matchWaitSeconds.p50)}   p95 ${f(r.matchWaitSeconds.p95)}`,
    `  skill spread in a match:        p50 ${f(r.skillSpread.p50)}   p95 ${f(r.skillSpread.p95)}`,
    `  team skill gap in a match:      p50 ${f(r.teamGap.p50)}   p95 ${f(r.teamGap.p95)}`,
  ].join("\n");
}

/** What every run of the command line takes from its arguments and target. */
function simulationOptions(a: SimulateArgs, t: Target, idPrefix: string, label = ""): SimulationOptions {
  const shown = progressWriter(process.stderr, label);
  return {
    baseUrl: t.baseUrl,
    players: a.players,
    servers: a.servers,
    mode: a.mode,
    modes: t.modes,
    regions: t.regions,
    functionKey: t.key,
    gameMs: a.gameMs,
    pollIntervalMs: a.pollMs,
    deadlineMs: ((a.timeoutSeconds ?? 60) + 60) * 1000,
    arrivalRate: a.rate,
    idPrefix,
    progress: (line) => shown.update(line),
  };
}

/**
 * --latency: the same population twice, reporting latencies and forced into the nearest region, against the
 * same target (the second run's players and servers have ids of their own).
 */
async function latencyComparison(a: SimulateArgs, t: Target): Promise<number> {
  // With --rules: the lab's players (skills, parties; a party at its leader's place) through the rule set.
  const rule = a.rules?.modes[a.mode];
  const lab = a.population && rule ? { population: a.population, modeRules: a.rules!.modes } : {};
  const solo = latencyPopulation(a.players, t.regions);
  const places = a.population && rule ? partyPlaces(solo, a.population, rule.maxPartySize) : solo;
  const reports: LatencyReport[] = [];
  let problems = 0;
  // A warm-up first (10 whole sessions in the first region, not reported): a cold runtime would make
  // whichever run goes first look slower (measured: wait p50 2x on a cold start).
  const size = t.modes[a.mode] ?? 4;
  await runSimulation({
    ...simulationOptions(a, t, `sim${Date.now().toString(36)}w-`, "warm-up: "),
    ...lab,
    players: 10 * size,
    latencyPlaces: places.slice(0, 10 * size).map((p) => ({ ...p, home: t.regions[0]! })),
    sendLatencies: false,
  });
  progressWriter(process.stderr).end();
  for (const [label, sendLatencies] of [
    ["with latencies (zone)", true],
    ["forced into nearest region", false],
  ] as const) {
    const result = await runSimulation({
      ...simulationOptions(a, t, `sim${Date.now().toString(36)}${sendLatencies ? "l" : "f"}-`, `${label}: `),
      ...lab,
      latencyPlaces: places,
      sendLatencies,
    });
    progressWriter(process.stderr).end();
    reports.push(latencyReport(label, result.players, places, result.rules));
    problems += result.problems.length + result.failed;
    if (result.problems.length) console.log(`${label}: ${result.problems.length} problem(s):\n  ${result.problems.slice(0, 20).join("\n  ")}`);
  }
  const nearest: Record<string, number> = {};
  for (const p of places) nearest[p.home] = (nearest[p.home] ?? 0) + 1;
  const homes = Object.entries(nearest).map(([r, n]) => `${r} ${n}`);
  console.log(
    [
      "",
      `Regions chosen by latency: ${a.players} players (nearest region: ${homes.join(", ")}), ${a.servers} servers spread evenly, mode ${a.mode} ${JSON.stringify(a.rules?.modes[a.mode]?.latency)}`,
      latencyTable(reports),
    ].join("\n"),
  );
  return problems ? 1 : 0;
}

async function cli(argv: string[]): Promise<number> {
  const a = parseSimulateArgs(argv);
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const t = a.url ? remoteTarget(a, a.url) : await inProcessRuntime(a);
  if (a.latency) {
    try {
      return await latencyComparison(a, t);
    } finally {
      await t.stop();
    }
  }
  try {
    const before = await t.episodes();
    const result = await runSimulation(
      {
        ...simulationOptions(a, t, `sim${Date.now().toString(36)}-`),
        ...(a.rules ? { population: a.population, modeRules: a.rules.modes } : {}),
      },
      a.identity ? identityPushClient(t.baseUrl) : a.push ? pushClient : pollingClient,
    );
    progressWriter(process.stderr).end();
    const after = await t.episodes();
    const rule = a.rules?.modes[a.mode];
    writeFileSync(
      a.chart,
      result.rules && rule
        ? qualityChart(result.rules, rule, `Match quality against wait, mode ${a.mode}, ${a.players} players`)
        : timeToMatchChart(result, `Time to match, ${a.players} players, ${a.servers} servers`),
    );
    console.log(summary(a, t, result, before !== undefined && after !== undefined ? after - before : undefined));
    if (result.rules) console.log(rulesSummary(result.rules));
    return result.problems.length || result.failed ? 1 : 0;
  } finally {
    await t.stop();
  }
}

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(process.env.DEBUG ? (err.stack ?? err.message) : `simulate: ${err.message}`);
      process.exit(1);
    },
  );
}
