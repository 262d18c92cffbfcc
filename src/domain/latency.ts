/**
 * Regions chosen by latency (DESIGN.md section 6 "Mode rules", `latency`; issue 14). Pure rules, no Azure, no
 * Redis: which regions a ticket may be placed in, and which region a group of tickets is matched in. The
 * store's Lua (src/store/lua/placeLatency.lua and its includes) applies the same rules atomically.
 */
import { hasOwnName } from "./fields";

/** Latencies a ticket may report: whole milliseconds (a fraction is rounded), at most this many regions. */
export const LATENCY_MAX_MS = 10_000;
export const MAX_LATENCY_REGIONS = 32;

/** Where the regions are: the served regions in configured order, and region -> zone for zoned ones. */
export interface RegionLayout {
  regions: readonly string[];
  zones: Readonly<Record<string, string>>;
}

/** The zone of a region, if it is in one (own-property lookup: `constructor` is no zone). */
export function zoneOf(zones: Readonly<Record<string, string>>, region: string): string | undefined {
  return hasOwnName(zones, region) ? zones[region] : undefined;
}

/** The regions a ticket homed in `home` may be placed in: its zone's regions in configured order, or `home` alone. */
export function zoneRegions(layout: RegionLayout, home: string): string[] {
  const zone = zoneOf(layout.zones, home);
  return zone === undefined ? [home] : layout.regions.filter((r) => zoneOf(layout.zones, r) === zone);
}

/**
 * The home region of a ticket with latencies and no `region`: the served region of lowest latency (ties: the
 * first in MATCH_REGIONS). Undefined when it reported no served region.
 */
export function homeRegion(layout: RegionLayout, latencies: Readonly<Record<string, number>>): string | undefined {
  let best: string | undefined;
  for (const r of layout.regions) if (hasOwnName(latencies, r) && (best === undefined || latencies[r]! < latencies[best]!)) best = r;
  return best;
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: { error: string; detail: string } };
const refuse = (error: string, detail: string): { ok: false; error: { error: string; detail: string } } => ({ ok: false, error: { error, detail } });

/**
 * A ticket's `latencies: {region: ms}`: 1-MAX_LATENCY_REGIONS served regions, each a number 0-LATENCY_MAX_MS
 * (rounded to whole ms). `served`: the regions of MATCH_REGIONS; without it any well-formed name is taken.
 */
export function validateLatencies(value: unknown, served: readonly string[] | undefined, namePattern: RegExp): Checked<Record<string, number>> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return refuse("invalid_latencies", 'latencies must be an object {region: milliseconds}, e.g. {"westeurope": 32}');
  const entries = Object.entries(value);
  if (entries.length < 1 || entries.length > MAX_LATENCY_REGIONS)
    return refuse("invalid_latencies", `latencies must name 1-${MAX_LATENCY_REGIONS} regions, got ${entries.length}`);
  const out: Record<string, number> = {};
  for (const [region, ms] of entries) {
    if (!namePattern.test(region) || (served && !served.includes(region)))
      return refuse(
        "invalid_latencies",
        `latencies names ${JSON.stringify(region.slice(0, 40))}, which is not a region served here (${(served ?? []).join(", ")})`,
      );
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > LATENCY_MAX_MS)
      return refuse("invalid_latencies", `latencies.${region} must be a number of milliseconds 0-${LATENCY_MAX_MS}, got ${JSON.stringify(ms)}`);
    out[region] = Math.round(ms);
  }
  return { ok: true, value: out };
}

/**
 * Where a ticket is homed (its `region`: the key space of its record and token) and, in a latency mode, the
 * regions it may be placed in with its latency to each (undefined: not measured, its home only). `region`
 * given: that; else with latencies the served region of lowest latency; else the default region.
 */
export function ticketPlacement(
  layout: RegionLayout,
  t: { region?: string; latencies?: Readonly<Record<string, number>> },
  defaultRegion: string,
): Checked<{ home: string; candidates: Record<string, number | undefined> }> {
  const home = t.region ?? (t.latencies ? homeRegion(layout, t.latencies) : defaultRegion) ?? defaultRegion;
  if (!t.latencies) return { ok: true, value: { home, candidates: { [home]: undefined } } };
  const candidates: Record<string, number | undefined> = {};
  for (const r of zoneRegions(layout, home)) if (hasOwnName(t.latencies, r)) candidates[r] = t.latencies[r];
  if (!Object.keys(candidates).length) {
    const zone = zoneOf(layout.zones, home);
    return refuse(
      "latency_region_mismatch",
      `latencies name none of the regions the ticket can be matched in (${zone === undefined ? `region ${home}` : `zone ${zone} of ${home}: ${zoneRegions(layout, home).join(", ")}`})`,
    );
  }
  return { ok: true, value: { home, candidates } };
}
