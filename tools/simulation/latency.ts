/**
 * The latency comparison of the simulator (`npm run simulate -- --latency`; issue 14): one population of
 * players spread over three regions, each with its latency to every region, played twice through the
 * public API — once sending `latencies` (the matchmaker places them across the zone within the max in force)
 * and once forced into their nearest region alone (the same tickets with `region` only) — and reported
 * side by side: matched share, wait and latency-to-the-match's-region percentiles.
 */
import { percentile } from "../../src/lib/percentile";
import { seededRandom } from "../seededRandom";
import { planUnits, type Population } from "./population";
import type { PlayerResult, RulesReport } from "./types";

/** One player's place: its nearest region and its round trip to every region. */
export interface LatencyPlace {
  home: string;
  latencies: Record<string, number>;
}

/** The default rule set of the comparison: 4 players, 60 ms at first, 120 ms after 10 s of waiting. */
export const LATENCY_LAB_MODES = { geo: { teamSize: 4, latency: { max: 60, widen: [{ afterSeconds: 10, max: 120 }] } } };
export const LATENCY_LAB_REGIONS = ["westeurope", "northeurope", "uksouth"];

/**
 * Players over `regions` with shares 50/30/20 (the first region the busiest): a player near its region
 * (10-40 ms) and 25-80 ms farther from each other region; seeded, so both runs get the same population.
 */
export function latencyPopulation(players: number, regions: readonly string[], seed = 14): LatencyPlace[] {
  const rnd = seededRandom(seed);
  const shares = regions.map((_, i) => (i === 0 ? 0.5 : i === 1 ? 0.3 : 0.2 / Math.max(1, regions.length - 2)));
  const total = shares.reduce((a, b) => a + b, 0);
  return Array.from({ length: players }, () => {
    let x = rnd() * total;
    let home = regions[regions.length - 1]!;
    for (const [i, s] of shares.entries()) {
      if (x < s) {
        home = regions[i]!;
        break;
      }
      x -= s;
    }
    const near = Math.round(10 + rnd() * 30);
    const latencies: Record<string, number> = {};
    for (const r of regions) latencies[r] = r === home ? near : Math.round(near + 25 + rnd() * 55);
    return { home, latencies };
  });
}

/**
 * With the rule-set lab's population (--latency --rules FILE): a party's members live at their leader's
 * place (the ticket reports the leader's latencies; player i is the population's i-th player).
 */
export function partyPlaces(places: readonly LatencyPlace[], pop: Population, maxPartySize: number): LatencyPlace[] {
  const out: LatencyPlace[] = [];
  for (const u of planUnits(pop, places.length, maxPartySize)) {
    const leader = places[out.length]!;
    for (let j = 0; j < u.members.length; j++) out.push(leader);
  }
  return out;
}

export interface LatencyReport {
  label: string;
  players: number;
  matchedShare: number;
  waitMs: { p50: number; p95: number };
  /** Each matched player's latency to the region its match was placed in (the session id's region). */
  latencyMs: { p50: number; p95: number; max: number };
  /** Matched players per region of their match. */
  byRegion: Record<string, number>;
  /** With a rules mode (--rules): per match, max - min skill and the team skill gap. */
  quality?: Pick<RulesReport, "skillSpread" | "teamGap">;
}

/** The region a session was placed in: session ids are `<region>.<sequence>`. */
export const sessionRegion = (sessionId: string): string => sessionId.slice(0, sessionId.lastIndexOf("."));

export function latencyReport(label: string, results: PlayerResult[], places: readonly LatencyPlace[], rules?: RulesReport): LatencyReport {
  const matched = results.map((r, i) => ({ r, place: places[i]! })).filter((x) => x.r.status === "matched" && x.r.sessionId);
  const latency = matched.map(({ r, place }) => place.latencies[sessionRegion(r.sessionId!)] ?? Number.NaN).filter(Number.isFinite);
  const waits = matched.map(({ r }) => r.timeToMatchMs ?? Number.NaN).filter(Number.isFinite);
  const byRegion: Record<string, number> = {};
  for (const { r } of matched) byRegion[sessionRegion(r.sessionId!)] = (byRegion[sessionRegion(r.sessionId!)] ?? 0) + 1;
  return {
    label,
    players: results.length,
    matchedShare: matched.length / Math.max(1, results.length),
    waitMs: { p50: percentile(waits, 50), p95: percentile(waits, 95) },
    latencyMs: { p50: percentile(latency, 50), p95: percentile(latency, 95), max: latency.length ? Math.max(...latency) : Number.NaN },
    byRegion,
    ...(rules ? { quality: { skillSpread: rules.skillSpread, teamGap: rules.teamGap } } : {}),
  };
}

/** The two runs side by side. */
export function latencyTable(reports: readonly LatencyReport[]): string {
  const f = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : "n/a");
  const rows = reports.map(
    (r) =>
      `  ${r.label.padEnd(30)} ${(r.matchedShare * 100).toFixed(1).padStart(6)}%   ${f(r.waitMs.p50).padStart(6)} ${f(r.waitMs.p95).padStart(6)}   ` +
      `${f(r.latencyMs.p50).padStart(4)} ${f(r.latencyMs.p95).padStart(4)} ${f(r.latencyMs.max).padStart(4)}   ${Object.entries(r.byRegion)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
  );
  const quality = reports
    .filter((r) => r.quality)
    .map(
      (r) =>
        `  ${r.label.padEnd(30)} skill spread p50 ${f(r.quality!.skillSpread.p50)} p95 ${f(r.quality!.skillSpread.p95)}   team gap p50 ${f(r.quality!.teamGap.p50)} p95 ${f(r.quality!.teamGap.p95)}`,
    );
  return [`  ${"run".padEnd(30)} matched   wait ms p50    p95   latency ms p50 p95 max   matched per region`, ...rows, ...quality].join("\n");
}
