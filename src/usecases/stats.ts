/** Queue depth per mode, sessions open/ready, servers free/busy and time to match, per region. */
import type { RegionStats } from "../store/types";
import type { Ports } from "./ports";

export interface StatsReport {
  at: string;
  modes: Record<string, number>;
  regions: RegionStats[];
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
  const report = Promise.all(regions.map((r) => p.store.stats(r))).then((perRegion) => ({
    at: new Date(now).toISOString(),
    modes: p.settings.modes,
    regions: perRegion,
  }));
  cache.set(key, { expiresAtMs: now + STATS_CACHE_MS, report });
  // A failed read is not kept: the next request tries again.
  report.catch(() => {
    if (cache.get(key)?.report === report) cache.delete(key);
  });
  return report;
}
