/**
 * `GET /api/stats`: per region, queue depth per mode, sessions open/ready, the scale-out signal, servers
 * free/busy, time to match (percentiles and histogram of recent samples), players matched so far (a
 * counter: the dashboard's matches per minute); per mode with rules, waiting players by skill band, match
 * quality and wait over the recent matches and the estimated wait of a new ticket; and the recent dead
 * letters of each source hub.
 */
import type { ModeStats, RegionStats } from "../store/types";
import type { ModeRules } from "../domain/modeRules";
import { modeSizes } from "../config/matchModes";
import { MATCH_MADE_SOURCE } from "./deliverMatches";
import { PLAYER_REQUESTS_SOURCE } from "./intakeBatch";
import type { Ports } from "./ports";

/** Dead letters read per source: the figure is "recent" (at most this many), not a total. */
export const DEAD_LETTERS_READ = 100;
const DEAD_LETTERS_SHOWN = 5;

export interface RegionReport extends Omit<RegionStats, "byMode"> {
  /** Full sessions waiting because no server is free: the scale-out signal (0 while servers are free). */
  sessionsWaitingForServer: number;
  /** Modes with rules (skill, teams or parties): who waits where, how good and how slow recent matches were. */
  byMode?: Record<string, ModeReport>;
}

/** A mode's figures in one region, with the estimated wait of a new ticket. */
export interface ModeReport extends ModeStats {
  /**
   * FlexMatch's EstimatedWaitTime: how long a ticket arriving now can expect to wait, in seconds; null while
   * there is nothing to estimate from (no recent match and nobody waiting). See estimateWaitSeconds.
   */
  estimatedWaitSeconds: number | null;
}

/**
 * The wait a new ticket of a mode can expect: the median wait of the recent matches (the wait of each
 * match's longest-waiting ticket when it filled, so it leans high, which a player would rather be told).
 * With no recent match but players waiting, nobody has been matched for a while: the timeout is the honest
 * estimate. Never above the timeout, after which a ticket ends anyway.
 */
export function estimateWaitSeconds(m: Pick<ModeStats, "recentMatches" | "waiting" | "waitSeconds">, timeoutSeconds: number): number | null {
  if (m.recentMatches > 0) return Math.min(timeoutSeconds, Math.round(m.waitSeconds.p50 * 10) / 10);
  return m.waiting > 0 ? timeoutSeconds : null;
}

export interface DeadLetterReport {
  /** Dead letters among the newest DEAD_LETTERS_READ of the source. */
  recent: number;
  /** The newest few, newest first. */
  latest: { at: string; error: string; detail: string }[];
}

export interface StatsReport {
  at: string;
  /** Players per session of each mode (as MATCH_MODES' number form says it). */
  modes: Record<string, number>;
  /** Each mode's rules, normalized: teams, teamSize, maxPartySize, skill (window and widen steps). */
  modeRules: Record<string, ModeRules>;
  regions: RegionReport[];
  deadLetters: Record<string, DeadLetterReport>;
}

/**
 * How long one instance serves the same report. The stats endpoint is anonymous and one read costs Redis
 * ~160 µs per region; without a cache a few thousand requests per second would saturate it. Concurrent
 * requests also share the one read in flight.
 */
export const STATS_CACHE_MS = 1000;

const cache = new Map<string, { expiresAtMs: number; report: Promise<StatsReport> }>();

export function readStats(p: Pick<Ports, "settings" | "store" | "clock">, regions: readonly string[]): Promise<StatsReport> {
  const key = regions.join(",");
  const now = p.clock();
  const hit = cache.get(key);
  if (hit && hit.expiresAtMs > now) return hit.report;
  const report = read(p, regions, now);
  cache.set(key, { expiresAtMs: now + STATS_CACHE_MS, report });
  // A failed read is not kept: the next request tries again.
  report.catch(() => {
    if (cache.get(key)?.report === report) cache.delete(key);
  });
  return report;
}

async function read(p: Pick<Ports, "settings" | "store">, regions: readonly string[], now: number): Promise<StatsReport> {
  const sources = [PLAYER_REQUESTS_SOURCE, MATCH_MADE_SOURCE];
  const [perRegion, letters] = await Promise.all([
    Promise.all(regions.map((r) => p.store.stats(r))),
    Promise.all(sources.map((s) => p.store.listDeadLetters(s, DEAD_LETTERS_READ))),
  ]);
  const deadLetters: Record<string, DeadLetterReport> = {};
  sources.forEach((source, i) => {
    const list = letters[i] ?? [];
    deadLetters[source] = {
      recent: list.length,
      latest: list.slice(0, DEAD_LETTERS_SHOWN).map(({ at, error, detail }) => ({ at, error, detail: detail.slice(0, 300) })),
    };
  });
  return {
    at: new Date(now).toISOString(),
    modes: modeSizes(p.settings.modes),
    modeRules: p.settings.modes,
    regions: perRegion.map((r) => regionReport(r, p.settings.matchTimeoutSeconds)),
    deadLetters,
  };
}

function regionReport(r: RegionStats, timeoutSeconds: number): RegionReport {
  const { byMode, ...rest } = r;
  const report: RegionReport = { ...rest, sessionsWaitingForServer: r.serversAvailable > 0 ? 0 : r.sessionsReady };
  if (byMode) {
    report.byMode = Object.fromEntries(
      Object.entries(byMode).map(([mode, m]) => [mode, { ...m, estimatedWaitSeconds: estimateWaitSeconds(m, timeoutSeconds) }]),
    );
  }
  return report;
}
