/**
 * Turns one bench run into BENCHMARKS.md, a console table and SVG charts. Pure: no Redis, no clock, so
 * tests can feed it a fabricated run.
 */
import { percentile } from "../src/lib/percentile";
import { barChart, cdfPoints, formatNumber, groupedBarChart, histogram, lineChart, type ReferenceLine } from "../tools/svgChart";
import {
  ASSUMED_EVENTHUB_BATCH,
  ASSUMED_POLLS_PER_PLAYER,
  assumedPricesMarkdown,
  costPerMillionPlayers,
  designCounts,
  referenceCounts,
  type CostBreakdown,
  type PerPlayerCounts,
} from "./costModel";
import type { MemoryResult, ScriptCostResult, ThroughputResult } from "./core";
import type { EndToEndResult } from "./e2e";
import type { CeilingResult } from "./ceiling";
import { SCRIPT_CALL_LIMIT_MS, type LongestCallResult } from "./longestCall";
import type { FloorResult } from "./floor";
import type { PeerResult } from "./colyseus";
import type { LinkSetting } from "./netLink";
import { capacityRows, capacityAssumptionsMarkdown, type CapacityInputs } from "./capacityModel";

export interface LinkResult {
  setting: LinkSetting;
  /** Mean PING round trip measured over the link, ms. */
  pingRttMs: number;
  /** Median and 99th percentile of those PINGs (runs recorded before these existed have the mean only). */
  pingP50Ms?: number;
  pingP99Ms?: number;
  /** Delay relay only: its hold per chunk and direction after calibration, ms. */
  relayHoldMs?: number;
  /** Delay relay only: what it did during each design's run. */
  relayLoad?: { ours: RelayLoad; reference: RelayLoad };
  ours: ThroughputResult;
  reference: ThroughputResult;
}

/** The delay relay over one run: its CPU (both threads) and how late it released held chunks. */
export interface RelayLoad {
  cpuMs: number;
  wallMs: number;
  chunks: number;
  /** Release minus due time of the held chunks, ms (negative = early). */
  latenessP50Ms: number;
  latenessP99Ms: number;
}

/** How the emulated link added its delay. */
export interface LinkMechanismResult {
  kind: "netem" | "relay";
  /** Why this mechanism (e.g. the kernel has no netem qdisc). */
  why: string;
  /** PING straight to the server over the bare veth pair. */
  vethPingP50Ms: number;
  vethPingP99Ms: number;
  /** Relay only: PING through the relay holding nothing (its own hop), and its CPU while idle. */
  relayHopPingP50Ms?: number;
  relayHopPingP99Ms?: number;
  relayIdleCpuMsPerSec?: number;
  /** Relay only: the most its calibration may take off the hold, ms each way. */
  relayMaxCorrectionMs?: number;
}

export interface BenchResults {
  startedAt: string;
  mode: "quick" | "full";
  durationSeconds?: number;
  machine: {
    cpu: string;
    cores: number;
    memoryGb: number;
    node: string;
    redis: string;
    platform: string;
    /** 1-minute load average when the run started and ended: other processes share the cores. */
    loadAverageAtStart?: number;
    loadAverageAtEnd?: number;
  };
  config: {
    consumers: number;
    batchSize: number;
    ourPlayers: number;
    referencePlayers: number;
    floorSeconds: number;
    repetitions?: number;
    linkPlayers?: number;
  };
  floor?: FloorResult;
  throughput: ThroughputResult[];
  memory: MemoryResult[];
  scriptCost?: ScriptCostResult;
  /** The longest single script call per looping operation over large pools (bench/longestCall.ts). */
  longestCalls?: LongestCallResult;
  /** Ours and the reference across the emulated network link, one entry per link setting. */
  links?: LinkResult[];
  /** Why the emulated link did not run, in one line (e.g. no root). */
  linkSkipped?: string;
  /** How the emulated link added its delay (netem or the delay relay). */
  linkMechanism?: LinkMechanismResult;
  /** Colyseus on the same redis-server and crowd. */
  peer?: PeerResult;
  e2e?: EndToEndResult;
  /** The same end-to-end run at a higher request rate (full mode). */
  e2eLoad?: EndToEndResult;
  /** The end-to-end ceiling under open-loop load from a separate process (bench/ceiling.ts). */
  ceiling?: CeilingResult;
  notes: string[];
}

/** Network round trip between a function instance and Azure Managed Redis in one region, for the loopback note (assumed). */
export const ASSUMED_AZURE_RTT_MS = 1;

export const TARGETS = {
  corePlayersPerSec: 50_000,
  ratioToReference: 20,
  ratioToReferenceOverLink: 100,
  durableCallsPerMatched: 3,
  durableCallsPerTicketPoll: 0,
  episodesPerMatched: 2,
  sessionFullToToldP50Ms: 100,
  endToEndPlayersPerSec: 1_000,
  endToEndP95Ms: 500,
  /** Issue 11 (match rules on a leaner store). */
  fifo4At10Buckets: 55_000,
  fifo4At100Buckets: 45_000,
  ranked5v5PlayersPerSec: 30_000,
  bytesPerWaitingPlayer: 350,
} as const;

export interface TargetVerdict {
  target: string;
  measured: string;
  status: "met" | "missed" | "not measured";
  detail: string;
}

export interface Report {
  markdown: string;
  console: string;
  charts: Record<string, string>;
  targets: TargetVerdict[];
  cost: { ours?: CostBreakdown; reference?: CostBreakdown; oursCounts?: PerPlayerCounts; referenceCounts?: PerPlayerCounts };
}

const f = formatNumber;
const fx = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const usd = (v: number): string => (Number.isFinite(v) ? `$${v < 0.01 ? v.toPrecision(2) : v.toFixed(2)}` : "–");
const label = (t: { sessionSize: number; buckets: number; rules?: string }): string =>
  t.rules === "ranked5v5" ? `5v5 skill+parties × ${t.buckets}b` : `${t.sessionSize}p × ${t.buckets}b`;

function find(r: BenchResults, design: "ours" | "reference", size: number, buckets: number): ThroughputResult | undefined {
  return r.throughput.find((t) => t.design === design && t.sessionSize === size && t.buckets === buckets);
}

function scenarios(r: BenchResults): { sessionSize: number; buckets: number; rules?: "ranked5v5" }[] {
  const seen = new Map<string, { sessionSize: number; buckets: number; rules?: "ranked5v5" }>();
  for (const t of r.throughput)
    seen.set(`${t.sessionSize}/${t.buckets}`, { sessionSize: t.sessionSize, buckets: t.buckets, ...(t.rules ? { rules: t.rules } : {}) });
  return [...seen.values()].sort((a, b) => a.sessionSize - b.sessionSize || a.buckets - b.buckets);
}

function table(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function evaluateTargets(r: BenchResults): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const size4 = r.throughput.filter((t) => t.design === "ours" && t.sessionSize === 4);
  if (size4.length) {
    const worst = size4.reduce((a, b) => (b.playersPerSec < a.playersPerSec ? b : a));
    out.push({
      target: `≥ ${f(TARGETS.corePlayersPerSec)} players/s through the core, 4-player sessions`,
      measured: size4.map((t) => `${f(t.playersPerSec)} (${t.buckets}b)`).join(", "),
      status: worst.playersPerSec >= TARGETS.corePlayersPerSec ? "met" : "missed",
      detail: `judged on the slowest 4-player scenario (${label(worst)}: ${f(worst.playersPerSec)} players/s)`,
    });
  } else
    out.push({
      target: `≥ ${f(TARGETS.corePlayersPerSec)} players/s through the core, 4-player sessions`,
      measured: "–",
      status: "not measured",
      detail: r.notes.join(" ") || "core not run",
    });

  const ratios = size4
    .map((o) => ({ o, ref: find(r, "reference", 4, o.buckets) }))
    .filter((x): x is { o: ThroughputResult; ref: ThroughputResult } => !!x.ref)
    .map((x) => ({ buckets: x.o.buckets, ratio: x.o.playersPerSec / x.ref.playersPerSec }));
  if (ratios.length) {
    const worst = ratios.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    out.push({
      target: `≥ ${TARGETS.ratioToReference}× the reference pattern (4-player sessions)`,
      measured: ratios.map((x) => `${fx(x.ratio)}× (${x.buckets}b)`).join(", "),
      status: worst.ratio >= TARGETS.ratioToReference ? "met" : "missed",
      detail: `judged on the lowest ratio (${worst.buckets} bucket(s): ${fx(worst.ratio)}×), both measured in this run on the same redis-server`,
    });
  } else
    out.push({
      target: `≥ ${TARGETS.ratioToReference}× the reference pattern (4-player sessions)`,
      measured: "–",
      status: "not measured",
      detail: "needs both ours and the reference at size 4",
    });

  const e = r.e2e;
  if (e?.available && e.matched > 0) {
    out.push({
      target: `≤ ${TARGETS.episodesPerMatched} orchestrator episodes per matched player`,
      measured: fx(e.orchestratorEpisodesPerMatched, 2),
      status: e.orchestratorEpisodesPerMatched <= TARGETS.episodesPerMatched ? "met" : "missed",
      detail: `${e.matched} players matched through the local runtime; every orchestrator invocation counted`,
    });
    const p50 = percentile(e.sessionFullToToldMs, 50);
    out.push({
      target: `p50 session full → players told < ${TARGETS.sessionFullToToldP50Ms} ms (locally)`,
      measured: Number.isFinite(p50) ? `${fx(p50)} ms` : "–",
      status: Number.isFinite(p50) ? (p50 < TARGETS.sessionFullToToldP50Ms ? "met" : "missed") : "not measured",
      detail: `${e.sessionFullToToldMs.length} sessions; until the last player's orchestrator completed`,
    });
  } else {
    const why = e && !e.available ? `not measured: ${e.reason}` : "not measured: end-to-end run not performed";
    out.push({ target: `≤ ${TARGETS.episodesPerMatched} orchestrator episodes per matched player`, measured: "–", status: "not measured", detail: why });
    out.push({
      target: `p50 session full → players told < ${TARGETS.sessionFullToToldP50Ms} ms (locally)`,
      measured: "–",
      status: "not measured",
      detail: why,
    });
  }
  out.push(...rulesStoreTargets(r), longestCallTarget(r), linkTarget(r), peerTarget(r), ...durableTargets(r), ceilingTarget(r));
  return out;
}

/** Issue 11's goals: FIFO throughput at 10 and 100 buckets, the 5v5 skill mode with parties, memory per waiting player. */
function rulesStoreTargets(r: BenchResults): TargetVerdict[] {
  const throughput = (target: string, goal: number, t: ThroughputResult | undefined): TargetVerdict =>
    t
      ? {
          target,
          measured: `${f(t.playersPerSec)} players/s`,
          status: t.playersPerSec >= goal ? "met" : "missed",
          detail: `${label(t)}; ${fx((t.playersPerSec / goal) * 100, 0)}% of the goal`,
        }
      : { target, measured: "–", status: "not measured", detail: "scenario not run" };
  const fifo = (buckets: number) => r.throughput.find((t) => t.design === "ours" && t.sessionSize === 4 && t.buckets === buckets && !t.rules);
  const ranked = r.throughput.find((t) => t.design === "ours" && t.rules === "ranked5v5");
  const memory = r.memory.find((m) => m.design === "ours");
  const memoryTarget = `≤ ${TARGETS.bytesPerWaitingPlayer} B of Redis memory per waiting player`;
  return [
    throughput(`≥ ${f(TARGETS.fifo4At10Buckets)} players/s, 4-player FIFO sessions at 10 buckets`, TARGETS.fifo4At10Buckets, fifo(10)),
    throughput(`≥ ${f(TARGETS.fifo4At100Buckets)} players/s, 4-player FIFO sessions at 100 buckets`, TARGETS.fifo4At100Buckets, fifo(100)),
    throughput(`≥ ${f(TARGETS.ranked5v5PlayersPerSec)} players/s, 5v5 skill mode with parties`, TARGETS.ranked5v5PlayersPerSec, ranked),
    memory
      ? {
          target: memoryTarget,
          measured: `${f(memory.bytesPerWaitingPlayer)} B`,
          status: memory.bytesPerWaitingPlayer <= TARGETS.bytesPerWaitingPlayer ? "met" : "missed",
          detail: "used_memory growth per waiting player",
        }
      : { target: memoryTarget, measured: "–", status: "not measured", detail: "memory not run" },
  ];
}

/** No script call ≥ 10 ms at the largest batch and pool: the worst phase, each call by the lower of its two runs. */
function longestCallTarget(r: BenchResults): TargetVerdict {
  const target = `longest single script call < ${SCRIPT_CALL_LIMIT_MS} ms of Redis CPU at the largest batch and pool`;
  const l = r.longestCalls;
  if (!l?.available || !l.phases.length) return { target, measured: "–", status: "not measured", detail: l && !l.available ? l.reason : "calls not run" };
  const worst = l.phases.reduce((a, b) => (b.longestMs > a.longestMs ? b : a));
  return {
    target,
    measured: `${fx(worst.longestMs, 2)} ms (${worst.script})`,
    status: worst.longestMs < SCRIPT_CALL_LIMIT_MS ? "met" : "missed",
    detail: `${worst.pool} pool of ${f(l.poolPlayers)} players, ${worst.phase}, batches of ${l.batchRequests} requests; each call by the lower of two runs`,
  };
}

/** The end-to-end ceiling: the last offered rate whose p95 request → told stayed under the bound. */
function ceilingTarget(r: BenchResults): TargetVerdict {
  const target = `≥ ${f(TARGETS.endToEndPlayersPerSec)} players/s end to end through the local runtime, p95 request → told < ${TARGETS.endToEndP95Ms} ms`;
  const c = r.ceiling;
  if (!c?.available) return { target, measured: "–", status: "not measured", detail: c ? c.reason : "ceiling not run" };
  const broke = c.steps.find((s) => !s.held);
  const last = c.steps.filter((s) => s.held).at(-1);
  return {
    target,
    measured: `${f(c.ceilingPerSec)} players/s${last ? ` (p95 ${fx(last.requestToToldP95Ms, 0)} ms)` : ""}`,
    status: c.ceilingPerSec >= TARGETS.endToEndPlayersPerSec ? "met" : "missed",
    detail: broke
      ? `open-loop steps of ${c.stepSeconds} s; at ${f(broke.ratePerSec)}/s: ${broke.why ?? ""}`
      : `every step held, up to ${f(c.steps.at(-1)?.ratePerSec ?? 0)}/s`,
  };
}

const sum = (o: Record<string, number> | undefined): number => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
const kinds = (o: Record<string, number> | undefined, digits = 2): string =>
  Object.entries(o ?? {})
    .map(([k, v]) => `${k} ${fx(v, digits)}`)
    .join(", ") || "none";

/** How the link added its delay, in a few words for the target table and the console. */
function mechanismWords(r: BenchResults): string {
  const m = r.linkMechanism;
  if (!m) return "tc netem";
  return m.kind === "netem" ? "tc netem" : `userspace delay relay${/no netem qdisc/.test(m.why) ? " (this kernel has no netem qdisc)" : ""}`;
}

function linkTarget(r: BenchResults): TargetVerdict {
  const target = `≥ ${TARGETS.ratioToReferenceOverLink}× the reference across a ~1 ms link (4p × 10b)`;
  const link = r.links?.find((l) => l.setting.oneWayDelayMs === 0.5) ?? r.links?.[0];
  if (!link) return { target, measured: "–", status: "not measured", detail: r.linkSkipped ?? "link not run" };
  const ratio = link.ours.playersPerSec / link.reference.playersPerSec;
  const ping = link.pingP50Ms !== undefined ? `PING p50 ${fx(link.pingP50Ms, 2)} ms` : `PING ${fx(link.pingRttMs, 2)} ms`;
  const veth = r.linkMechanism ? ` (veth pair alone ${fx(r.linkMechanism.vethPingP50Ms, 2)} ms)` : "";
  return {
    target,
    measured: `${fx(ratio)}× (${f(link.ours.playersPerSec)} vs ${f(link.reference.playersPerSec)} players/s)`,
    status: ratio >= TARGETS.ratioToReferenceOverLink ? "met" : "missed",
    detail: `${link.setting.name} by ${mechanismWords(r)}, ${ping} measured${veth}; same players for both`,
  };
}

function peerTarget(r: BenchResults): TargetVerdict {
  const target = "ahead of Colyseus on loopback (players/s, rooms/sessions of 4)";
  const ours = find(r, "ours", 4, 1);
  if (!r.peer || !ours) return { target, measured: "–", status: "not measured", detail: "needs ours at 4p × 1b and the Colyseus run" };
  const ratio = ours.playersPerSec / r.peer.playersPerSec;
  return {
    target,
    measured: `${fx(ratio, 1)}× (${f(ours.playersPerSec)} vs ${f(r.peer.playersPerSec)} players/s)`,
    status: ratio > 1 ? "met" : "missed",
    detail: `ours 4p × 1b vs Colyseus ${r.peer.version} joinOrCreate, ${f(r.peer.players)} players each, same redis-server`,
  };
}

function durableTargets(r: BenchResults): TargetVerdict[] {
  const e = r.e2e;
  const perPlayer = `≤ ${TARGETS.durableCallsPerMatched} Durable client calls per matched player (outside client polls)`;
  const perPoll = "no Durable call for a poll of the ticket endpoint";
  if (!e?.available || !e.durableCallsPerMatched) {
    const why = e && !e.available ? e.reason : "end-to-end run without Durable call counts";
    return [
      { target: perPlayer, measured: "–", status: "not measured", detail: why },
      { target: perPoll, measured: "–", status: "not measured", detail: why },
    ];
  }
  const total = sum(e.durableCallsPerMatched);
  const pollTotal = sum(e.durableCallsPerTicketPoll);
  return [
    {
      target: perPlayer,
      measured: `${fx(total, 2)} (${kinds(e.durableCallsPerMatched)})`,
      status: total <= TARGETS.durableCallsPerMatched ? "met" : "missed",
      detail: `${e.matched} matched players; ${e.durableCallsSource ?? ""}`,
    },
    {
      target: perPoll,
      measured: `${fx(pollTotal, 2)} per poll (${kinds(e.durableCallsPerTicketPoll)})`,
      status: pollTotal <= TARGETS.durableCallsPerTicketPoll ? "met" : "missed",
      detail: "GETs of finished tickets, measured apart with nothing else running",
    },
  ];
}

function costInputs(r: BenchResults): { ours?: PerPlayerCounts; reference?: PerPlayerCounts; oursSource: string } {
  const o4 = find(r, "ours", 4, 1) ?? r.throughput.find((t) => t.design === "ours" && t.sessionSize === 4);
  const r4 = find(r, "reference", 4, 1) ?? r.throughput.find((t) => t.design === "reference" && t.sessionSize === 4);
  const base = { sessionSize: 4, batchSize: ASSUMED_EVENTHUB_BATCH, polls: ASSUMED_POLLS_PER_PLAYER };
  let ours: PerPlayerCounts | undefined;
  let oursSource = "";
  if (o4) {
    ours = designCounts({ ...base, redisPlayersPerSecond: o4.playersPerSec });
    const e = r.e2e;
    if (e?.available && e.matched > 0) {
      ours.orchestratorEpisodes = e.orchestratorEpisodesPerMatched;
      if (e.durableMetrics) ours.activityExecutions = e.durableMetrics.activityInvocations / e.matched;
      // The app's own Durable status reads (ticket creation for a player the store does not know): task hub reads.
      if (e.durableCallsPerMatched) ours.statusQueries = e.durableCallsPerMatched.status ?? 0;
      oursSource = "orchestrator episodes, activities and Durable status reads per matched player measured end to end; the rest by design";
    } else oursSource = "counts by design (end to end not measured): 2 episodes, 0 activities per matched player";
  }
  const reference = r4 ? referenceCounts({ ...base, redisPlayersPerSecond: r4.playersPerSec }) : undefined;
  return { ours, reference, oursSource };
}

/** Everything the report's sections read. */
interface ReportContext {
  r: BenchResults;
  o: { resultsDir: string };
  charts: Record<string, string>;
  targets: TargetVerdict[];
  sc: { sessionSize: number; buckets: number; rules?: "ranked5v5" }[];
  floor: FloorResult | undefined;
  e: EndToEndResult | undefined;
  ci: ReturnType<typeof costInputs>;
  cost: Report["cost"];
  costItems: [string, keyof CostBreakdown][];
}

const COST_ITEMS: [string, keyof CostBreakdown][] = [
  ["executions", "executions"],
  ["GB-s", "gbSeconds"],
  ["EH events", "eventHubEvents"],
  ["EH TU-hours", "eventHubThroughputUnits"],
  ["task hub storage", "storage"],
  ["Redis", "redis"],
  ["total", "total"],
];

function reportContext(r: BenchResults, o: { resultsDir: string }): ReportContext {
  const ci = costInputs(r);
  return {
    r,
    o,
    charts: {},
    targets: evaluateTargets(r),
    sc: scenarios(r),
    floor: r.floor,
    e: r.e2e,
    ci,
    cost: {
      ours: ci.ours ? costPerMillionPlayers(ci.ours) : undefined,
      reference: ci.reference ? costPerMillionPlayers(ci.reference) : undefined,
      oursCounts: ci.ours,
      referenceCounts: ci.reference,
    },
    costItems: COST_ITEMS,
  };
}

export function buildReport(r: BenchResults, o: { resultsDir: string }): Report {
  const c = reportContext(r, o);
  coreCharts(c);
  e2eCharts(c);
  costCharts(c);
  const md: string[] = [];
  for (const section of [
    headerAndTargets,
    coreSection,
    linkSection,
    peerSection,
    floorSection,
    scriptCostSection,
    longestCallSection,
    memorySection,
    endToEndSection,
    ceilingSection,
    durableCallsSection,
    costSection,
    capacitySection,
    howMeasuredSection,
  ])
    section(c, md);
  return { markdown: md.join("\n"), console: consoleSummary(c), charts: c.charts, targets: c.targets, cost: c.cost };
}

/** Throughput, ratio and round-trip charts of the core scenarios. */
function coreCharts(c: ReportContext): void {
  const { r, charts, sc, floor } = c;
  /** One series per design: `metric` of every scenario (0 where that design did not run it). */
  const bothDesigns = (metric: "playersPerSec" | "roundTripsPerPlayer", ours: string, reference: string) =>
    (
      [
        ["ours", ours],
        ["reference", reference],
      ] as const
    ).map(([design, name]) => ({
      name,
      values: sc.map((s) => find(r, design, s.sessionSize, s.buckets)?.[metric] ?? 0),
    }));
  if (sc.length) {
    const refLines: ReferenceLine[] = [{ value: TARGETS.corePlayersPerSec, label: `target ${f(TARGETS.corePlayersPerSec)} players/s`, color: "#e53e3e" }];
    if (floor) {
      refLines.push({
        value: floor.evalshaRoundTripsPerSec,
        label: `floor: no-op EVALSHA round trips/s (${f(floor.evalshaRoundTripsPerSec)})`,
        color: "#718096",
      });
      refLines.push({ value: floor.evalshaPipelinedPerSec, label: `floor: pipelined no-op commands/s (${f(floor.evalshaPipelinedPerSec)})`, color: "#2d3748" });
    }
    charts["throughput.svg"] = groupedBarChart({
      title: "Players matched per second (enqueue + group + assign), log scale",
      yLabel: "players/s",
      groups: sc.map(label),
      series: bothDesigns("playersPerSec", "ours (MatchmakingStore)", "reference pattern (2021 C# sample)"),
      logScale: true,
      referenceLines: refLines,
      width: 900,
      height: 460,
    });
    const ratioBars = sc
      .map((s) => ({ s, o: find(r, "ours", s.sessionSize, s.buckets), ref: find(r, "reference", s.sessionSize, s.buckets) }))
      .filter((x) => x.o && x.ref)
      .map((x) => ({ label: label(x.s), value: x.o!.playersPerSec / x.ref!.playersPerSec }));
    if (ratioBars.length) {
      charts["ratio.svg"] = barChart({
        title: "Ours ÷ reference, players/s, same run, same redis-server",
        yLabel: "× reference",
        bars: ratioBars.map((b) => ({ ...b, color: b.value >= TARGETS.ratioToReference ? "#38a169" : "#dd6b20" })),
        referenceLines: [{ value: TARGETS.ratioToReference, label: `target ${TARGETS.ratioToReference}×` }],
        width: 900,
      });
    }
    charts["round-trips.svg"] = groupedBarChart({
      title: "Redis round trips per player (client-side count)",
      yLabel: "round trips / player",
      groups: sc.map(label),
      series: bothDesigns("roundTripsPerPlayer", "ours", "reference"),
      logScale: true,
      width: 900,
    });
  }
}

/** Latency histogram and CDF of the end-to-end run. */
function e2eCharts(c: ReportContext): void {
  const { charts, e } = c;
  if (e?.available && e.matched > 0) {
    const all = [...e.sessionFullToToldMs];
    const p50 = percentile(all, 50);
    const p95 = percentile(all, 95);
    charts["latency.svg"] = histogram({
      title: `Session full → all its players told (local runtime; target p50 < ${TARGETS.sessionFullToToldP50Ms} ms)`,
      xLabel: "ms",
      values: all,
      min: 0,
      max: Math.max(1, percentile(all, 99) * 1.1),
      bins: 40,
      markers: [
        { value: p50, label: `p50 ${fx(p50)} ms` },
        { value: p95, label: `p95 ${fx(p95)} ms`, color: "#805ad5" },
        { value: TARGETS.sessionFullToToldP50Ms, label: "target p50", color: "#718096" },
      ],
    });
    charts["latency-cdf.svg"] = lineChart({
      title: "Latency distribution (CDF), local runtime",
      xLabel: "ms",
      yLabel: "fraction ≤ x",
      yMin: 0,
      yMax: 1,
      xMin: 0,
      series: [
        { name: "session full → players told", points: cdfPoints(e.sessionFullToToldMs) },
        { name: "request → player told (orchestrator done)", points: cdfPoints(e.requestToToldMs) },
        { name: `request → address seen by client (polls every 25 ms)`, points: cdfPoints(e.requestToAddressMs) },
      ],
    });
  }
}

/** The modelled cost per million matched players, both designs. */
function costCharts(c: ReportContext): void {
  const { charts, cost, costItems } = c;
  if (cost.ours || cost.reference) {
    charts["cost.svg"] = groupedBarChart({
      title: "Modelled Azure cost per million matched players (USD)",
      yLabel: "USD / 1M players",
      groups: costItems.map(([n]) => n),
      series: [
        ...(cost.ours ? [{ name: "ours", values: costItems.map(([, k]) => cost.ours![k] as number) }] : []),
        ...(cost.reference ? [{ name: "reference", values: costItems.map(([, k]) => cost.reference![k] as number) }] : []),
      ],
      width: 900,
    });
  }
}

/** Title, machine, and the targets table with its verdicts. */
function headerAndTargets(c: ReportContext, md: string[]): void {
  md.push("# Benchmarks");
  const { r, targets } = c;
  md.push("");
  md.push(
    `Generated by \`npm run bench${r.mode === "quick" ? " -- --quick" : ""}\` on ${r.startedAt} (${r.mode} mode, ${fx(r.durationSeconds ?? NaN, 0)} s). ` +
      "Do not edit by hand: re-run the bench. Every number below comes from one run against one private `redis-server` the bench started; " +
      "baselines (the floor, the reference pattern) were measured in the same run, so read the **ratios** — the machine is shared and noisy.",
  );
  md.push("");
  md.push(
    `Machine: ${r.machine.cores} × ${r.machine.cpu}, ${r.machine.memoryGb} GB, ${r.machine.platform}, Node ${r.machine.node}, Redis ${r.machine.redis}. ` +
      (r.machine.loadAverageAtStart !== undefined
        ? `1-minute load average ${fx(r.machine.loadAverageAtStart, 2)} at the start and ${fx(r.machine.loadAverageAtEnd ?? NaN, 2)} at the end of the run (anything near or above ${r.machine.cores} means other processes competed for the cores). `
        : "") +
      `Load shape: ${r.config.consumers} concurrent consumers (one connection each) sending batches of ${r.config.batchSize} players, one assigner loop.`,
  );
  md.push("");
  md.push("## Targets");
  md.push("");
  md.push(
    table(
      ["target", "measured", "verdict", "how judged"],
      targets.map((t) => [t.target, t.measured, `**${t.status}**`, t.detail]),
    ),
  );
  md.push("");
  const missed = targets.filter((t) => t.status === "missed");
  const unmeasured = targets.filter((t) => t.status === "not measured");
  md.push(
    missed.length === 0 && unmeasured.length === 0
      ? "All targets met in this run."
      : [
          missed.length ? `Missed: ${missed.map((t) => t.target).join("; ")}.` : "",
          unmeasured.length ? `Not measured: ${unmeasured.map((t) => `${t.target} (${t.detail})`).join("; ")}.` : "",
        ]
          .filter(Boolean)
          .join(" "),
  );
  md.push("");
}

/** Observations of the core runs, the loopback model and the reference's fire-and-forget writes and races. */
function coreNotes(c: ReportContext, md: string[]): void {
  const { r } = c;
  const notes = r.throughput.flatMap((t) => t.notes.map((n) => `${t.design} ${label(t)}: ${n}`));
  if (notes.length) {
    md.push("Observations during the runs:");
    md.push("");
    for (const n of notes) md.push(`- ${n}`);
    md.push("");
  }
  const o4 = find(r, "ours", 4, 1);
  const r4 = find(r, "reference", 4, 1);
  if (o4 && r4) {
    const rtt = ASSUMED_AZURE_RTT_MS;
    md.push(
      `What loopback hides (a model; the emulated link below measures it where the kernel allows): here a round trip costs tens of microseconds. On Azure every round trip also pays the ` +
        `network between the function instance and Azure Managed Redis, assumed ${rtt} ms. At ${rtt} ms the reference's ${fx(r4.roundTripsPerPlayer, 1)} ` +
        `sequential round trips per player cap each consumer at about ${f(1000 / (r4.roundTripsPerPlayer * rtt))} players/s; ours makes ` +
        `${fx(o4.roundTripsPerPlayer, 4)} round trips per player, so network latency caps a consumer at about ` +
        `${f(1000 / (o4.roundTripsPerPlayer * rtt))} players/s and the limit stays Redis CPU (measured above). The ratio on Azure would be larger than the one measured here.`,
    );
    md.push("");
  }
  const refFF = r.throughput.filter((t) => t.design === "reference");
  if (refFF.length) {
    md.push(
      `The reference also sends ${fx(refFF.reduce((a, t) => a + t.fireAndForgetPerPlayer, 0) / refFF.length, 2)} fire-and-forget commands per player on average ` +
        "(no round trip, but server work: they are in its server command and CPU counts). It is credited with every player it processed, " +
        "including the players it lost: its read-modify-write steps race with each other across consumers (sessions overfilled, Capacity below 0, never ready) " +
        'and with the timer\'s FlushSession (a consumer picks a session being flushed; Int32.Parse of its missing Capacity throws: "threw"). ' +
        "Races are more frequent here than with the sample's 15 s timer, because the bench's assigner runs continuously, for both designs alike. " +
        (r.throughput.filter((t) => t.design === "ours").every((t) => t.assignedPlayers === t.players)
          ? "Ours assigned every player in every scenario."
          : "Ours did not assign every player: see the observations above."),
    );
    md.push("");
  }
}

/** Core throughput on loopback: ours and the reference, same players, same redis-server. */
function coreSection(c: ReportContext, md: string[]): void {
  const { r, o, charts, sc } = c;
  md.push("## Core throughput");
  md.push("");
  md.push(
    "Players enqueued, grouped into sessions and given a server, per second, through `MatchmakingStore` (ours) and through a " +
      "call-for-call port of the 2021 C# sample's Redis access pattern (`bench/reference/referenceMatchmaker.ts`). " +
      "`p × b` = session size × number of buckets (modes). Round trips are counted by the clients; server commands and CPU come from `INFO`. " +
      (r.config.ourPlayers === r.config.referencePlayers
        ? `Both designs ran the same ${f(r.config.ourPlayers)} players per scenario`
        : `Ours ran ${f(r.config.ourPlayers)} players per scenario, the reference ${f(r.config.referencePlayers)}`) +
      (r.config.repetitions && r.config.repetitions > 1
        ? `; each scenario ran ${r.config.repetitions} times per design, interleaved, and the table shows the median run (all runs' players/s in brackets).`
        : "."),
  );
  md.push("");
  if (sc.length) {
    md.push(
      table(
        [
          "scenario",
          "ours players/s",
          "reference players/s",
          "ours ÷ ref",
          "reference players lost to races",
          "round trips/player ours · ref",
          "commands run by Redis/player (incl. inside scripts) ours · ref",
          "Redis CPU µs/player ours · ref",
          "batch call p50 / p99 ms ours · ref",
        ],
        sc.map((s) => {
          const a = find(r, "ours", s.sessionSize, s.buckets);
          const b = find(r, "reference", s.sessionSize, s.buckets);
          return [
            label(s),
            a ? f(a.playersPerSec) + runs(a) : "–",
            b ? f(b.playersPerSec) + runs(b) : "–",
            a && b ? `**${fx(a.playersPerSec / b.playersPerSec)}×**` : "–",
            b && b.lostPlayers !== undefined ? `${f(b.lostPlayers)} of ${f(b.players)} (${f(b.failedPlayers ?? 0)} threw)` : "–",
            `${a ? fx(a.roundTripsPerPlayer, 3) : "–"} · ${b ? fx(b.roundTripsPerPlayer, 2) : "–"}`,
            `${a ? fx(a.serverCommandsPerPlayer, 3) : "–"} · ${b ? fx(b.serverCommandsPerPlayer, 2) : "–"}`,
            `${a ? fx(a.redisCpuMicrosPerPlayer, 2) : "–"} · ${b ? fx(b.redisCpuMicrosPerPlayer, 2) : "–"}`,
            `${a ? `${fx(a.batchMsP50, 2)} / ${fx(a.batchMsP99, 2)}` : "–"} · ${b ? `${fx(b.batchMsP50, 1)} / ${fx(b.batchMsP99, 1)}` : "–"}`,
          ];
        }),
      ),
    );
    md.push("");
    md.push(`![throughput](${o.resultsDir}/throughput.svg)`);
    md.push("");
    if (charts["ratio.svg"]) md.push(`![ratio](${o.resultsDir}/ratio.svg)`, "");
    md.push(`![round trips](${o.resultsDir}/round-trips.svg)`, "");
    coreNotes(c, md);
  } else {
    md.push("Not measured in this run.", "");
  }
}

/** The floor: the same server's no-op round trips, and the designs in units of it. */
function floorSection(c: ReportContext, md: string[]): void {
  const { r, sc, floor } = c;
  md.push("## The floor: how close to Redis's own limit");
  md.push("");
  if (floor) {
    md.push(
      table(
        ["the same redis-server, same run", `rate (${floor.connections} connections)`],
        [
          ["PING, one outstanding per connection", `${f(floor.pingRoundTripsPerSec)} round trips/s`],
          [
            "no-op EVALSHA (`return 1`), one outstanding per connection",
            `${f(floor.evalshaRoundTripsPerSec)} round trips/s (${fx(floor.evalshaRoundTripMicros)} µs each)`,
          ],
          ["no-op EVALSHA, 100 in flight per connection", `${f(floor.evalshaPipelinedPerSec)} commands/s`],
        ],
      ),
    );
    md.push("");
    const rows = sc
      .map((s) => ({ a: find(r, "ours", s.sessionSize, s.buckets), b: find(r, "reference", s.sessionSize, s.buckets), s }))
      .filter((x) => x.a || x.b)
      .map(({ a, b, s }) => {
        const cpuPerBatch = a ? a.redisCpuMicrosPerPlayer * a.batchSize : NaN;
        return [
          label(s),
          a ? fx(a.playersPerSec / floor.evalshaRoundTripsPerSec, 2) : "–",
          b ? fx(b.playersPerSec / floor.evalshaRoundTripsPerSec, 2) : "–",
          a ? `${f(cpuPerBatch)} µs = ${f(cpuPerBatch / floor.evalshaServerCpuMicros)} no-op calls` : "–",
          a ? `${fx(a.redisCpuMicrosPerPlayer / floor.evalshaServerCpuMicros, 1)}` : "–",
          b ? `${fx(b.redisCpuMicrosPerPlayer / floor.evalshaServerCpuMicros, 1)}` : "–",
        ];
      });
    if (rows.length) {
      md.push(
        table(
          [
            "scenario",
            "ours: players per no-op round trip",
            "reference: players per no-op round trip",
            "ours: Redis CPU per batch of 100 (enqueue + its share of assign)",
            "ours: Redis CPU per player, in no-op calls",
            "reference: Redis CPU per player, in no-op calls",
          ],
          rows,
        ),
      );
      md.push("");
      md.push(
        `Read: "players per no-op round trip" = players/s ÷ the no-op EVALSHA round trips/s the same server sustained with the same ${floor.connections} connections ` +
          `(${f(floor.evalshaRoundTripsPerSec)}/s). A design bound by round trips (the reference) sits far below 1; ours carries a batch per round trip, ` +
          `so its limit is the Lua work per player on the single Redis thread: Redis CPU per player, in units of the server CPU one no-op script call costs ` +
          `(${fx(floor.evalshaServerCpuMicros, 1)} µs here; PING ${fx(floor.pingServerCpuMicros, 1)} µs).`,
      );
      md.push("");
    }
  } else md.push("Not measured in this run.", "");
}

/** Where our Redis CPU goes: enqueue and assign measured apart. */
function scriptCostSection(c: ReportContext, md: string[]): void {
  const { r } = c;
  const sc2 = r.scriptCost;
  if (sc2) {
    md.push("### Where our Redis CPU goes");
    md.push("");
    md.push(
      `Measured apart on one connection with nothing else running (${f(sc2.players)} players, ${sc2.sessionSize}-player sessions, 10 buckets): ` +
        `**enqueue ${fx(sc2.enqueueCpuMicrosPerPlayer, 1)} µs** of Redis CPU and ${fx(sc2.enqueueCommandsPerPlayer, 1)} commands (script calls and the redis.call()s inside them) per player; ` +
        `**assign + confirm ${fx(sc2.assignCpuMicrosPerPlayer, 1)} µs** and ${fx(sc2.assignCommandsPerPlayer, 1)} commands per player. ` +
        `Redis runs scripts on one thread, so ${f(1e6 / (sc2.enqueueCpuMicrosPerPlayer + sc2.assignCpuMicrosPerPlayer))} players/s is the ceiling these scripts allow on this machine; ` +
        `${f(TARGETS.corePlayersPerSec)} players/s needs at most ${fx(1e6 / TARGETS.corePlayersPerSec, 0)} µs per player for both together, before any other work shares the cores.`,
    );
    md.push("");
  }
}

/** The longest single script call per phase over large pools, with its chart. */
function longestCallSection(c: ReportContext, md: string[]): void {
  const l = c.r.longestCalls;
  md.push("## Longest single script call at the largest batch and pool", "");
  if (!l) return void md.push("Not measured in this run.", "");
  if (!l.available) return void md.push(`Not measured: ${l.reason}.`, "");
  md.push(
    `How long one call keeps Redis busy (its main thread's CPU time, \`/proc/<pid>/schedstat\`) while a region (or a zone's latency pool) holds ${f(l.poolPlayers)} players, enqueued in batches of ${l.batchRequests} requests. ` +
      "Every operation is capped by work per call and the store loops, so a call should stay far below the limit however large the pool. " +
      "Each pool ran twice with the same calls; a call counts by the lower of its two times, because single calls on this shared machine measured 3–4× their neighbours at a different call each run. " +
      "`test/store/scriptTime.test.ts` asserts the same at 100k players (the latency pool at 50k).",
    "",
  );
  md.push(
    table(
      ["pool", "phase", "script calls", "longest call ms (lower of two runs)", "script", "single-run longest ms"],
      l.phases.map((p) => [p.pool, p.phase, f(p.calls), fx(p.longestMs, 2), p.script, p.singleRunLongestMs.map((x) => fx(x, 2)).join(" · ")]),
    ),
  );
  md.push("", `![longest script call](${c.o.resultsDir}/longest-call.svg)`, "");
  c.charts["longest-call.svg"] = barChart({
    title: `Longest single script call per phase, ${f(l.poolPlayers)}-player pools (ms of Redis CPU, lower of two runs)`,
    yLabel: "ms",
    bars: l.phases.map((p) => ({ label: `${p.pool}: ${p.phase}`, value: p.longestMs, color: p.longestMs < SCRIPT_CALL_LIMIT_MS ? "#38a169" : "#e53e3e" })),
    referenceLines: [{ value: SCRIPT_CALL_LIMIT_MS, label: `limit ${SCRIPT_CALL_LIMIT_MS} ms`, color: "#e53e3e" }],
    // Room for each bar's label (pool: phase) under it.
    width: Math.max(1000, 140 * l.phases.length),
    height: 460,
  });
}

/** Redis memory per waiting player. */
function memorySection(c: ReportContext, md: string[]): void {
  const { r } = c;
  md.push("## Redis memory per waiting player");
  md.push("");
  if (r.memory.length) {
    md.push(
      table(
        ["design", "players waiting", "used_memory growth per player"],
        r.memory.map((m) => [m.design, f(m.players), `${f(m.bytesPerWaitingPlayer)} bytes`]),
      ),
    );
    md.push("");
    md.push("4-player sessions, 10 buckets, no servers (players stay waiting); `INFO memory` used_memory before and after.");
    md.push("");
  } else md.push("Not measured in this run.", "");
}

/** The end-to-end run's latency, function-time and per-player tables. */
function endToEndTables(e: Extract<EndToEndResult, { available: true }>, md: string[]): void {
  md.push(
    table(
      ["latency", "n", "p50 ms", "p95 ms", "p99 ms"],
      [
        latencyRow("request → server address seen by a polling client (1 in 10 players polls every 25 ms)", e.requestToAddressMs),
        latencyRow("request → player told (its orchestrator completed with the match)", e.requestToToldMs),
        latencyRow("session full → all its players told", e.sessionFullToToldMs),
        ...(e.requestToEnqueuedMs ? [latencyRow("(stage) request → in the store (HTTP, Event Hub, addPlayers)", e.requestToEnqueuedMs)] : []),
        ...(e.sessionFullToPublishedMs && e.publishedToToldMs
          ? [
              latencyRow("(stage) session full → match-made published (assign, announce)", e.sessionFullToPublishedMs),
              latencyRow("(stage) match-made published → last player told (Event Hub, matchMade, raiseEvent, episode)", e.publishedToToldMs),
            ]
          : []),
      ],
    ),
  );
  md.push("");
  if (e.functionTimes && Object.keys(e.functionTimes).length) {
    md.push(
      table(
        ["function", "invocations", "mean ms", "p95 ms", "max ms"],
        Object.entries(e.functionTimes).map(([n, t]) => [n, String(t.count), fx(t.meanMs, 2), fx(t.p95Ms, 2), fx(t.maxMs, 1)]),
      ),
    );
    md.push("");
  }
  md.push(
    table(
      ["per matched player", "count"],
      [
        ["orchestrator episodes", fx(e.orchestratorEpisodesPerMatched, 2)],
        ...(e.durableMetrics
          ? [
              ["orchestrator episodes (Durable engine's own count)", fx(e.durableMetrics.orchestratorEpisodes / Math.max(1, e.matched), 2)],
              ["activity invocations", fx(e.durableMetrics.activityInvocations / Math.max(1, e.matched), 2)],
            ]
          : []),
        ["function invocations, all functions", fx(e.totalInvocationsPerMatched, 2)],
        ...Object.entries(e.invocationsPerMatched).map(([n, v]) => [`— ${n}`, fx(v, 3)]),
        ["ticket polls per polling client (1 player in 10 polls, every 25 ms)", fx(e.pollsPerPlayer, 1)],
      ],
    ),
  );
  md.push("");
}

/** End to end through the local runtime: latencies, function times, counts per matched player. */
function endToEndSection(c: ReportContext, md: string[]): void {
  const { r, o, charts, e } = c;
  md.push("## End to end through the local runtime");
  md.push("");
  if (e?.available) {
    md.push(
      `${e.players} players (${e.sessionSize}-player sessions) requested at a steady ${e.ratePerSec ?? "?"} players/s over HTTP to the local runtime (\`startLocalRuntime\`, ` +
        `in the bench's process), ${e.matched} told their match, ${e.failed} failed, ${fx(e.seconds)} s. Same redis-server as above. ` +
        (e.processCpuPercent !== undefined
          ? `The process (runtime + clients, one event loop) used ${fx(e.processCpuPercent, 0)} % of one core meanwhile${e.processCpuPercent > 80 ? " — near saturation, so queueing in the event loop is part of these latencies" : ""}.`
          : ""),
    );
    md.push("");
    if (e.ratePerSec) {
      md.push(
        `"Request → …" includes waiting for the other ${e.sessionSize - 1} players of the session to arrive: at ${e.ratePerSec} players/s a session fills in ` +
          `${fx(((e.sessionSize - 1) / e.ratePerSec) * 1000, 0)} ms, so its players wait ${fx((((e.sessionSize - 1) / e.ratePerSec) * 1000) / 2, 0)} ms on average for that alone. ` +
          `"Session full → told" is the matchmaker's own latency.`,
      );
      md.push("");
    }
    endToEndTables(e, md);
    md.push(
      "HTTP invocations include the bench's own polling (1 player in 10 polls every 25 ms; a real client polls far less often). " +
        "Event Hub batches are small at this request rate; at load they fill up (the cost model assumes full batches of 100).",
    );
    md.push("");
    const l = r.e2eLoad;
    if (l?.available) {
      const a = summarize(l.requestToToldMs);
      const b = summarize(l.sessionFullToToldMs);
      md.push(
        `The same run at ${l.ratePerSec} players/s (process CPU ${fx(l.processCpuPercent, 0)} % of one core): ${l.matched} of ${l.players} told; ` +
          `request → told p50 ${fx(a.p50)} / p95 ${fx(a.p95)} / p99 ${fx(a.p99)} ms; session full → told p50 ${fx(b.p50)} / p95 ${fx(b.p95)} / p99 ${fx(b.p99)} ms; ` +
          `${fx(l.orchestratorEpisodesPerMatched, 2)} episodes per matched player. The targets above are judged on the ${e.ratePerSec} players/s run.`,
      );
      md.push("");
    } else if (l && !l.available) md.push(`A second run at a higher rate failed: ${l.reason}.`, "");
    if (charts["latency.svg"]) md.push(`![latency](${o.resultsDir}/latency.svg)`, "", `![latency CDF](${o.resultsDir}/latency-cdf.svg)`, "");
    for (const n of e.notes) md.push(`- ${n}`);
    if (e.notes.length) md.push("");
  } else {
    md.push(`**Not measured: ${e ? e.reason : "end-to-end run not performed in this run"}.** No number is given rather than a made-up one.`, "");
  }
}

/** The cost model per million matched players, with every assumed price. */
function costSection(c: ReportContext, md: string[]): void {
  const { r, o, ci, cost, costItems } = c;
  md.push("## Cost model");
  md.push("");
  if (cost.ours || cost.reference) {
    md.push(
      `Modelled Azure cost per **million matched players** (USD), 4-player sessions. Ours: ${ci.oursSource}. ` +
        "Reference: counts read from its code (3 episodes + 1 activity per player: start, ServerReady, FlushPlayer, completion). " +
        "The Redis share uses the throughput each design reached in this run.",
    );
    md.push("");
    md.push(
      table(
        ["item", "ours", "reference"],
        costItems.map(([n, k]) => [
          n === "total" ? "**total**" : n,
          cost.ours ? usd(cost.ours[k] as number) : "–",
          cost.reference ? usd(cost.reference[k] as number) : "–",
        ]),
      ),
    );
    md.push("");
    md.push(
      table(
        ["count per matched player", "ours", "reference"],
        [
          ["function executions", ...oursAndRef(cost, (c) => c.functionExecutionsPerPlayer, 3)],
          ["— orchestrator episodes", ...oursAndRef(ci, (c) => c.orchestratorEpisodes, 2)],
          ["— activities", ...oursAndRef(ci, (c) => c.activityExecutions, 2)],
          ["— HTTP (ticket create + polls)", ...oursAndRef(ci, (c) => c.httpExecutions, 2)],
          ["— Event Hub triggered", ...oursAndRef(ci, (c) => c.eventHubExecutions, 4)],
          ["Event Hub events", ...oursAndRef(ci, (c) => c.eventHubEvents, 2)],
          ["task hub storage transactions (estimate)", ...oursAndRef(cost, (c) => c.storageTransactionsPerPlayer, 1)],
        ],
      ),
    );
    md.push("");
    md.push(`![cost](${o.resultsDir}/cost.svg)`, "");
  } else md.push("Not computed (no core throughput measured).", "");
  md.push(...assumedPricesMarkdown());
  md.push("");

  if (r.notes.length) {
    md.push("## Not measured in this run", "");
    for (const n of r.notes) md.push(`- ${n}`);
    md.push("");
  }
}

/** How each part is measured, and where its code is. */
function howMeasuredSection(c: ReportContext, md: string[]): void {
  md.push("## How it is measured", "");
  md.push(
    "- `bench/run.ts` starts a private `redis-server` (`startRedisServer`), runs every part against it, writes this file, `bench/results/*.svg` and `bench/results/results.json`.",
    "- Core: `bench/core.ts`. Servers are registered before the clock starts; the clock stops when the assigner has given every session a server. Each scenario starts from an empty Redis (`FLUSHALL`).",
    "- Reference: `bench/reference/referenceMatchmaker.ts` mirrors `BatchAddPlayers.cs`, `BatchReadySession.cs`, `AddServer.cs` and `MatchRequest.cs` of github.com/Azure-Samples/gaming-serverless-matchmaker call for call (synchronous StackExchange.Redis calls are awaited round trips, FireAndForget calls are sent without waiting). Its Durable and Event Hub calls are left out, as ours are in the core run.",
    "- Emulated link: `bench/netLink.ts` (network namespace, veth pair with link-local addresses, `tc netem` on both ends, or where the kernel has no netem the delay relay `bench/delayRelay.ts`; root). Colyseus: `bench/colyseus.ts`. Durable calls: `bench/durableCalls.ts`.",
    "- Floor: `bench/floor.ts`. End to end: `bench/e2e.ts`. Ceiling: `bench/ceiling.ts` with the open-loop generator `bench/loadGenerator.ts` (a forked process). Cost: `bench/costModel.ts`. Capacity: `bench/capacityModel.ts`. Charts: `tools/svgChart.ts`.",
    "- `npm run bench -- --quick` runs a smaller version of everything (a few minutes); the default is the full run. `npm run bench -- --help` lists the flags.",
  );
  md.push("");
}

/** The link part for the console: which mechanism and why, then a line per setting. */
function linkConsole(r: BenchResults): string[] {
  if (r.linkSkipped) return ["", `Link: not measured: ${r.linkSkipped}`];
  if (!r.links?.length) return [];
  const m = r.linkMechanism;
  const out = [""];
  if (m?.kind === "relay")
    out.push(
      `Link: delay by a userspace delay relay, not netem: ${m.why}. Veth pair PING p50 ${fx(m.vethPingP50Ms, 3)} ms; relay holding nothing p50 ${fx(m.relayHopPingP50Ms ?? NaN, 3)} / p99 ${fx(m.relayHopPingP99Ms ?? NaN, 3)} ms; relay idle CPU ${fx(m.relayIdleCpuMsPerSec ?? NaN, 2)} ms/s`,
    );
  else out.push(`Link: delay by tc netem${m ? `; veth pair PING p50 ${fx(m.vethPingP50Ms, 3)} ms` : ""}`);
  for (const l of r.links) {
    const ping = l.pingP50Ms !== undefined ? `PING p50 ${fx(l.pingP50Ms, 3)} / p99 ${fx(l.pingP99Ms ?? NaN, 3)} ms` : `PING ${fx(l.pingRttMs, 2)} ms`;
    const relay = l.relayLoad
      ? `; relay hold ${fx(l.relayHoldMs ?? NaN, 3)} ms, CPU ours ${relayCpu(l.relayLoad.ours)} · ref ${relayCpu(l.relayLoad.reference)}, release lateness p50 ${fx(l.relayLoad.reference.latenessP50Ms, 3)} / p99 ${fx(l.relayLoad.reference.latenessP99Ms, 3)} ms`
      : "";
    out.push(
      `  ${l.setting.name}: ${ping}; ours ${f(l.ours.playersPerSec)} vs ref ${f(l.reference.playersPerSec)} p/s = ${fx(l.ours.playersPerSec / l.reference.playersPerSec)}×${relay}`,
    );
  }
  return out;
}

/** The console summary: the core table, the other parts in a line each, the targets. */
function consoleSummary(c: ReportContext): string {
  const sc2 = c.r.scriptCost;
  const { r, targets, sc, floor, e, cost } = c;
  const con: string[] = [];
  con.push(
    `Bench (${r.mode}) — ${r.machine.cores} × ${r.machine.cpu}, Node ${r.machine.node}, Redis ${r.machine.redis}, load average ${fx(r.machine.loadAverageAtStart ?? NaN, 2)} → ${fx(r.machine.loadAverageAtEnd ?? NaN, 2)}`,
  );
  if (floor) {
    con.push(
      `Floor: PING ${f(floor.pingRoundTripsPerSec)} rt/s, no-op EVALSHA ${f(floor.evalshaRoundTripsPerSec)} rt/s (${fx(floor.evalshaServerCpuMicros, 1)} µs Redis CPU each), pipelined ${f(floor.evalshaPipelinedPerSec)} cmd/s`,
    );
  }
  if (sc.length) {
    con.push("");
    con.push(
      textTable(
        ["scenario", "ours p/s", "ref p/s", "ratio", "rt/p ours", "rt/p ref", "cpu µs/p ours", "cpu µs/p ref"],
        sc.map((s) => {
          const a = find(r, "ours", s.sessionSize, s.buckets);
          const b = find(r, "reference", s.sessionSize, s.buckets);
          return [
            label(s),
            a ? f(a.playersPerSec) : "–",
            b ? f(b.playersPerSec) : "–",
            a && b ? `${fx(a.playersPerSec / b.playersPerSec)}×` : "–",
            a ? fx(a.roundTripsPerPlayer, 3) : "–",
            b ? fx(b.roundTripsPerPlayer, 2) : "–",
            a ? fx(a.redisCpuMicrosPerPlayer, 2) : "–",
            b ? fx(b.redisCpuMicrosPerPlayer, 2) : "–",
          ];
        }),
      ),
    );
  }
  if (sc2) con.push("", `Redis CPU per player: enqueue ${fx(sc2.enqueueCpuMicrosPerPlayer, 1)} µs, assign ${fx(sc2.assignCpuMicrosPerPlayer, 1)} µs`);
  if (r.memory.length) con.push("", `Memory per waiting player: ${r.memory.map((m) => `${m.design} ${f(m.bytesPerWaitingPlayer)} B`).join(", ")}`);
  con.push(...linkConsole(r));
  if (e?.available) {
    const s3 = summarize(e.sessionFullToToldMs);
    const s1 = summarize(e.requestToAddressMs);
    con.push(
      `End to end: ${e.matched}/${e.players} matched; request→address p50 ${fx(s1.p50)} p95 ${fx(s1.p95)} p99 ${fx(s1.p99)} ms; session full→told p50 ${fx(s3.p50)} p95 ${fx(s3.p95)} ms; ${fx(e.orchestratorEpisodesPerMatched, 2)} episodes/matched`,
    );
  } else con.push(`End to end: not measured: ${e ? e.reason : "not run"}`);
  if (cost.ours || cost.reference)
    con.push(`Cost per 1M matched players: ours ${cost.ours ? usd(cost.ours.total) : "–"}, reference ${cost.reference ? usd(cost.reference.total) : "–"}`);
  con.push("");
  con.push(
    textTable(
      ["target", "verdict", "measured"],
      targets.map((t) => [t.target, t.status, t.measured]),
    ),
  );
  return con.join("\n");
}

/** " [a, b, c]" when the scenario ran more than once. */
function runs(t: ThroughputResult): string {
  return t.runsPlayersPerSec && t.runsPlayersPerSec.length > 1 ? ` [${t.runsPlayersPerSec.map((v) => f(v)).join(", ")}]` : "";
}

function summarize(samples: number[]): { p50: number; p95: number; p99: number; n: number } {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), n: samples.length };
}

/** The two cells "ours", "reference" of a table row: `get` of each, or "–" where that design has no value. */
function oursAndRef<T>(x: { ours?: T; reference?: T }, get: (v: T) => number, digits: number): [string, string] {
  return [x.ours ? fx(get(x.ours), digits) : "–", x.reference ? fx(get(x.reference), digits) : "–"];
}

/** A latency table row: name, samples, p50, p95, p99 (ms). */
function latencyRow(name: string, samples: number[]): string[] {
  const s = summarize(samples);
  return [name, String(s.n), fx(s.p50), fx(s.p95), fx(s.p99)];
}

/**
 * The reference's wall time per round trip on each of its connections (the consumers and the assigner, each
 * waiting for every reply before the next call): near the link's PING round trip when the link, not CPU, bounds it.
 */
const msPerRoundTrip = (t: ThroughputResult): number => (t.seconds * 1000 * (t.consumers + 1)) / (t.roundTripsPerPlayer * t.players);

/** The relay's CPU over a run: % of one core and µs per forwarded chunk. */
const relayCpu = (l: RelayLoad): string => `${fx((l.cpuMs / l.wallMs) * 100, 0)}% (${fx((l.cpuMs * 1000) / Math.max(1, l.chunks), 0)} µs/chunk)`;

/** How the delay was added: netem, or the relay with what it costs by itself. */
function linkMechanismParagraph(r: BenchResults): string {
  const m = r.linkMechanism;
  if (!m || m.kind === "netem")
    return (
      "The delay is `tc netem` on both ends of the veth pair." +
      (m ? ` The bare veth pair's PING round trip: p50 ${fx(m.vethPingP50Ms, 3)} ms, p99 ${fx(m.vethPingP99Ms, 3)} ms.` : "")
    );
  return (
    `**The delay is added by a userspace delay relay, not netem: ${m.why}.** ` +
    "The bench connects to the relay (`bench/delayRelay.ts`, its own process), which forwards every connection to the redis-server across the veth pair and holds every chunk for the one-way delay in each direction, in arrival order; " +
    "a timer thread sleeping in `Atomics.wait` with a sub-millisecond timeout wakes it (Node's own timers have 1 ms granularity). " +
    "The relay's own hop and wake-ups add to every round trip, so its hold is calibrated: lowered (by at most " +
    `${fx(m.relayMaxCorrectionMs ?? NaN, 2)} ms each way) until the PING median over the link is the bare veth pair's plus twice the delay. ` +
    "Unlike netem, the relay ends TCP on both sides, so TCP's own acknowledgements and connection set-up do not cross the delay (no window effects of a real link; every request and reply does). " +
    `Measured: the bare veth pair's PING round trip p50 ${fx(m.vethPingP50Ms, 3)} ms, p99 ${fx(m.vethPingP99Ms, 3)} ms; through the relay holding nothing p50 ${fx(m.relayHopPingP50Ms ?? NaN, 3)} ms, p99 ${fx(m.relayHopPingP99Ms ?? NaN, 3)} ms; ` +
    `the relay's CPU while idle ${fx(m.relayIdleCpuMsPerSec ?? NaN, 2)} ms per second.`
  );
}

/** Ours and the reference across the emulated network link. */
function linkSection(c: ReportContext, md: string[]): void {
  const { r } = c;
  md.push("## Across an emulated network link", "");
  md.push(
    "The redis-server runs in its own network namespace behind a veth pair, and every round trip pays a configured delay (set up and torn down by the bench; needs root). " +
      `Both designs, same players (${f(r.config.linkPlayers ?? NaN)} each), 4-player sessions, 10 buckets, the same load shape as on loopback.`,
    "",
  );
  if (!r.links?.length) {
    md.push(`**Not measured: ${r.linkSkipped ?? "the link part did not run"}.**`, "");
    return;
  }
  md.push(linkMechanismParagraph(r), "");
  md.push(
    table(
      ["link", "ours players/s", "reference players/s", "ours ÷ ref", "round trips/player ours · ref", "reference wall ms per round trip (per connection)"],
      r.links.map((l) => [
        l.setting.name,
        f(l.ours.playersPerSec) + runs(l.ours),
        f(l.reference.playersPerSec),
        `**${fx(l.ours.playersPerSec / l.reference.playersPerSec)}×**`,
        `${fx(l.ours.roundTripsPerPlayer, 3)} · ${fx(l.reference.roundTripsPerPlayer, 2)}`,
        fx(msPerRoundTrip(l.reference), 2),
      ]),
    ),
    "",
  );
  const vethP50 = r.linkMechanism?.vethPingP50Ms;
  const relayed = r.links.some((l) => l.relayLoad);
  md.push(
    table(
      [
        "link",
        "PING RTT p50 / p99",
        "added to the veth pair's p50",
        ...(relayed ? ["relay hold each way", "relay CPU during ours · reference", "relay release lateness p50 / p99 (reference run)"] : []),
      ],
      r.links.map((l) => [
        l.setting.name,
        l.pingP50Ms !== undefined ? `${fx(l.pingP50Ms, 3)} / ${fx(l.pingP99Ms ?? NaN, 3)} ms` : `${fx(l.pingRttMs, 2)} ms (mean)`,
        vethP50 !== undefined && l.pingP50Ms !== undefined ? `${fx(l.pingP50Ms - vethP50, 3)} ms (configured ${fx(2 * l.setting.oneWayDelayMs, 1)})` : "–",
        ...(relayed
          ? [
              l.relayHoldMs !== undefined ? `${fx(l.relayHoldMs, 3)} ms` : "–",
              l.relayLoad ? `${relayCpu(l.relayLoad.ours)} · ${relayCpu(l.relayLoad.reference)}` : "–",
              l.relayLoad ? `${fx(l.relayLoad.reference.latenessP50Ms, 3)} / ${fx(l.relayLoad.reference.latenessP99Ms, 3)} ms` : "–",
            ]
          : []),
      ]),
    ),
    "",
  );
  md.push(
    `The reference makes its round trips one after another on each of its ${r.config.consumers + 1} connections (${r.config.consumers} consumers and the assigner), so across a link its wall time per round trip on a connection is about the link's PING round trip; ours sends a batch of players per round trip, so the link barely moves it and its limit stays CPU (the bench's and Redis's). ` +
      (r.config.repetitions && r.config.repetitions > 1
        ? `Ours: the median of ${r.config.repetitions} runs (all runs in brackets); the reference: one run. `
        : "") +
      "PING round trips were measured with nothing else running on the link, one outstanding at a time; the relay's CPU is both its threads, user + system.",
    "",
  );
}

/** Colyseus, the real peer, on the same redis-server and crowd. */
function peerSection(c: ReportContext, md: string[]): void {
  const { r } = c;
  const p = r.peer;
  md.push("## A real peer: Colyseus", "");
  if (!p) {
    md.push("Not measured in this run.", "");
    return;
  }
  const ours = find(r, "ours", 4, 1);
  md.push(
    `Colyseus ${p.version} (\`@colyseus/core\` with \`@colyseus/redis-presence\` and \`@colyseus/redis-driver\`) on the same redis-server: ` +
      `${f(p.players)} players seated through \`matchMaker.joinOrCreate\` into rooms of ${p.sessionSize}, ${p.inFlight} calls in flight ` +
      `(our core run keeps ${r.config.consumers} × ${r.config.batchSize} players in flight). Colyseus 0.17+ needs Node 22; 0.16 is the newest line on this Node 20 machine.`,
    "",
  );
  md.push(
    table(
      [
        "design",
        "players/s",
        "time to seat p50 / p95 / p99 ms",
        "Redis commands/player",
        "Redis CPU µs/player",
        "rooms (not exactly full · overfilled)",
        "joins that failed and were retried",
      ],
      [
        [
          `Colyseus ${p.version}`,
          f(p.playersPerSec),
          `${fx(p.timeToSeatMsP50, 1)} / ${fx(p.timeToSeatMsP95, 1)} / ${fx(p.timeToSeatMsP99, 1)}`,
          fx(p.serverCommandsPerPlayer, 2),
          fx(p.redisCpuMicrosPerPlayer, 1),
          `${f(p.rooms)} (${p.roomsNotFull} · ${p.roomsOverfilled ?? "?"})`,
          f(p.failures),
        ],
        ...(ours
          ? [
              [
                "ours, 4p × 1b (core)",
                f(ours.playersPerSec),
                `batch call ${fx(ours.batchMsP50, 1)} / – / ${fx(ours.batchMsP99, 1)} (100 players each)`,
                fx(ours.serverCommandsPerPlayer, 2),
                fx(ours.redisCpuMicrosPerPlayer, 1),
                "–",
                "–",
              ],
            ]
          : []),
      ],
    ),
    "",
  );
  for (const n of p.notes) md.push(`- ${n}`);
  if (p.notes.length) md.push("");
  md.push(
    "What Colyseus does that we do not: it is the game server too — rooms hold live state, clients connect by WebSocket to the process that holds " +
      "their room, seats are reserved and expire when the client does not come, reconnection, room-level filters on any option, and processes " +
      "share rooms through Redis presence. What we do that it does not: nothing runs between matches (scale to zero on Functions), " +
      "every state change is one atomic Redis script that is safe under at-least-once redelivery, game servers are a pool that leases itself with " +
      "heartbeats, sessions wait for a server and players are told where to connect, timeouts and cancels free the slot, and batches of 100 " +
      "players cost one Redis round trip (a Colyseus `joinOrCreate` costs several per player).",
    "",
  );
}

/** Durable client calls per matched player, by kind, and per ticket poll. */
function durableCallsSection(c: ReportContext, md: string[]): void {
  const { e } = c;
  md.push("## Durable calls per matched player", "");
  if (!e?.available || !e.durableCallsPerMatched) {
    md.push(`Not measured: ${e && !e.available ? e.reason : "no end-to-end run with Durable call counts"}.`, "");
    return;
  }
  const kindsSeen = [...new Set([...Object.keys(e.durableCallsPerMatched), ...Object.keys(e.durableCallsPerTicketPoll ?? {})])].sort();
  md.push(
    table(
      ["Durable client call", "per matched player (crowd, polls taken out)", "per ticket poll"],
      [
        ...kindsSeen.map((k) => [k, fx(e.durableCallsPerMatched![k] ?? 0, 3), fx(e.durableCallsPerTicketPoll?.[k] ?? 0, 3)]),
        ["**total**", fx(sum(e.durableCallsPerMatched), 3), fx(sum(e.durableCallsPerTicketPoll), 3)],
      ],
    ),
    "",
  );
  md.push(
    `Source: ${e.durableCallsSource ?? "?"}. Orchestrator episodes (${fx(e.orchestratorEpisodesPerMatched, 2)} per matched player) are the engine's work, not client calls; ` +
      "on the Durable Task Scheduler a start and a raised event are one action each, and each episode they trigger is part of that action. " +
      "Before issue 16 the intake read the status before every start: 4.00 per matched player (start 1, status 2, raiseEvent 1); now the start is the " +
      "existence check and a ticket the store already holds costs no call, so what remains is the start, the raiseEvent and the status read of ticket creation " +
      "for a player the store does not know (it covers other regions and requests still in the hub).",
    "",
  );
}

function ceilingSection(c: ReportContext, md: string[]): void {
  const r = c.r.ceiling;
  md.push("## End-to-end ceiling (open-loop load from a separate process)", "");
  if (!r?.available) {
    md.push(`Not measured: ${r ? r.reason : "the ceiling scenario did not run"}.`, "");
    return;
  }
  md.push(
    `The whole path (POST /api/tickets → Event Hub → addPlayers → store → assign → match-made → matchMade → raiseEvent → the player's orchestrator completes) ` +
      `under an open-loop load generator in its own process (\`bench/loadGenerator.ts\`, keep-alive HTTP), 4-player sessions, no client polling. ` +
      `The offered rate steps up (${r.stepSeconds} s per step); a step holds when every request is accepted, every player is told within ${fx(r.drainMs / 1000, 0)} s ` +
      `of the step's last request, p95 request → told < ${r.p95BoundMs} ms and the generator kept its schedule. **Ceiling: ${f(r.ceilingPerSec)} players/s** ` +
      `(the last rate that held). CPU by process is % of one core over the step (this machine has ${c.r.machine.cores}).`,
    "",
    table(
      [
        "offered players/s",
        "told / requested",
        "request → told p50 / p95 / p99 ms",
        "POST answer p95 ms",
        "told/s",
        "CPU runtime · generator · redis-server",
        "held",
      ],
      r.steps.map((s) => [
        f(s.ratePerSec),
        `${f(s.told)} / ${f(s.players)}`,
        `${fx(s.requestToToldP50Ms, 0)} / ${fx(s.requestToToldP95Ms, 0)} / ${fx(s.requestToToldP99Ms, 0)}`,
        fx(s.answerP95Ms, 0),
        f(s.toldPerSec),
        `${fx(s.cpuPercent.runtime, 0)} % · ${fx(s.cpuPercent.loadGenerator, 0)} % · ${fx(s.cpuPercent.redis, 0)} %`,
        s.held ? "yes" : `**no**: ${s.why ?? ""}`,
      ]),
    ),
    "",
  );
  const last = r.steps.filter((s) => s.held).at(-1) ?? r.steps[0];
  if (last) {
    const perPlayerMs = last.runtimeCpuMsPerPlayer ?? ((last.cpuPercent.runtime / 100) * 1000) / Math.max(1, last.toldPerSec);
    md.push(
      `At ${f(last.ratePerSec)} players/s the runtime process spent about ${fx(perPlayerMs, 2)} ms of CPU per matched player; ` +
        `${f(TARGETS.endToEndPlayersPerSec)} players/s on one Node event loop needs under 1 ms (and a core of its own).`,
      "",
    );
    const split = (last.cpuSplit ?? []).filter((p) => p.percent >= 1);
    if (split.length) {
      md.push(
        `Where the runtime's main thread spent its CPU at ${f(last.ratePerSec)} players/s (V8 CPU profile of the step, \`bench/cpuProfile.ts\`: each sample charged to the ` +
          `nearest library or own-code frame up its stack; parts under 1 % left out):`,
        "",
        table(
          ["part", "share of busy CPU", "≈ ms per player (share × the process's CPU per player)"],
          split.map((p) => [p.part, `${fx(p.percent, 1)} %`, fx((p.percent / 100) * perPlayerMs, 2)]),
        ),
        "",
      );
    }
  }
  for (const n of r.notes) md.push(`- ${n}`);
  if (r.notes.length) md.push("");
}

/** Players/s one regional deployment can carry, per Durable backend, from the measured counts. */
function capacitySection(c: ReportContext, md: string[]): void {
  const { r, e } = c;
  md.push("## Capacity of one regional deployment", "");
  const calls = e?.available ? e.durableCallsPerMatched : undefined;
  const measuredActions = calls
    ? (calls.start ?? 0) + (calls.raiseEvent ?? 0) + (e?.available && e.durableMetrics ? e.durableMetrics.activityInvocations / Math.max(1, e.matched) : 0)
    : undefined;
  const inputs: CapacityInputs = {
    redisPlayersPerSec: find(r, "ours", 4, 10)?.playersPerSec,
    redisPlayersPerSecOverLink: r.links?.find((l) => l.setting.oneWayDelayMs === 0.5)?.ours.playersPerSec,
    durableActionsPerMatched: measuredActions && measuredActions > 0 ? measuredActions : 2,
    externalEventsPerMatched: calls?.raiseEvent ?? 1,
    eventHubEventsPerMatched: 1 + 1 / 4,
    durableSource: measuredActions ? "measured (start + raiseEvent + activities per matched player)" : "by design (1 start + 1 ServerReady)",
  };
  const { shared, backends } = capacityRows(inputs);
  const floorShared = Math.min(...shared.map((s) => s.playersPerSec));
  md.push(
    table(
      ["part", "players/s it allows", "how"],
      [...shared, ...backends].map((row) => [row.part, f(row.playersPerSec), row.how]),
    ),
    "",
  );
  md.push(
    table(
      ["Durable backend", "regional ceiling, players/s", "limited by"],
      backends.map((b) => {
        const cap = Math.min(b.playersPerSec, floorShared);
        const by = cap === b.playersPerSec ? b.part : shared.find((s) => s.playersPerSec === floorShared)!.part;
        return [b.part, f(cap), by];
      }),
    ),
    "",
  );
  md.push(
    `Durable actions per matched player: ${fx(inputs.durableActionsPerMatched, 2)}, ${inputs.durableSource}` +
      (calls?.status
        ? `; besides them ${fx(calls.status, 2)} status read(s) per matched player (ticket creation), queries rather than actions (on the Azure Storage provider a table read each, in the cost model)`
        : "") +
      `. Event Hub events per matched player: ${fx(inputs.eventHubEventsPerMatched, 2)} ` +
      "(the request, and a quarter of a match-made message). Pick the Azure Storage provider below a few hundred players/s per region (no extra resource), " +
      "the Durable Task Scheduler above it; beyond one region's ceiling, add stamps (infra/azuredeploy.multiregion.json). " +
      "Dollar cost per million matched players is in the cost model above (Functions, Event Hubs, Azure Storage task hub, Redis); the Durable Task " +
      "Scheduler's prices are not recorded in this repository, so its rows give capacity, not dollars.",
    "",
  );
  md.push(...capacityAssumptionsMarkdown(), "");
}
