/**
 * `GET /api/stats`: per region, queue depth per mode, sessions open/ready, the scale-out signal, servers
 * free/busy, time to match (percentiles and histogram of recent samples), players matched so far (a
 * counter: the dashboard's matches per minute); and the recent dead letters of each source hub.
 */
import type { RegionStats } from "../store/types";
import type { ModeRules } from "../domain/modeRules";
import { modeSizes } from "../config/matchModes";
import { MATCH_MADE_SOURCE } from "./deliverMatches";
import { PLAYER_REQUESTS_SOURCE } from "./intakeBatch";
import type { Ports } from "./ports";

/** Dead letters read per source: the figure is "recent" (at most this many), not a total. */
export const DEAD_LETTERS_READ = 100;
const DEAD_LETTERS_SHOWN = 5;

export interface RegionReport extends RegionStats {
  /** Full sessions waiting because no server is free: the scale-out signal (0 while servers are free). */
  sessionsWaitingForServer: number;
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
    regions: perRegion.map((r) => ({ ...r, sessionsWaitingForServer: r.serversAvailable > 0 ? 0 : r.sessionsReady })),
    deadLetters,
  };
}
