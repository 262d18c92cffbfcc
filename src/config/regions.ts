/**
 * The `MATCH_REGIONS` setting parsed: the regions served and their zones (issue 14). A region alone keeps its
 * own Redis hash slot (`<prefix>:{<region>}:...`, as before); the regions of a zone share one slot
 * (`<prefix>:{zone.<zone>}:<region>:...`), so a ticket that reported latencies to several of them is placed
 * by one atomic script and the store still runs on Redis Cluster. Cross-region sessions never mix zones.
 *
 * `MATCH_REGIONS` is a JSON array whose items are a region name, or a zone
 * `{"zone": "eu", "regions": ["westeurope", "northeurope"]}`; e.g. `["eastus", {"zone": "eu", "regions": [...]}]`.
 */
import { REGION_PATTERN } from "../domain/fields";

export interface ParsedRegions {
  /** Every region served, in the order given (zones' regions in place). */
  regions: string[];
  /** region -> its zone, for the regions of a zone only (own properties). */
  zones: Record<string, string>;
  /** One line per problem. */
  problems: string[];
}

/** A zone names at most this many regions (one hash slot holds them all: one shard's throughput). */
export const MAX_ZONE_REGIONS = 16;
export const MAX_REGIONS = 64;
const ZONE_FIELDS = ["zone", "regions"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseMatchRegions(value: unknown): ParsedRegions {
  const regions: string[] = [];
  const zones: Record<string, string> = {};
  const problems: string[] = [];
  if (!Array.isArray(value) || value.length === 0)
    return {
      regions,
      zones,
      problems: ['must be a non-empty array of region names or zones, like ["westeurope"] or [{"zone":"eu","regions":["westeurope","northeurope"]}]'],
    };
  const zoneNames = new Set<string>();
  const add = (region: unknown, where: string, zone?: string): void => {
    if (typeof region !== "string" || !REGION_PATTERN.test(region))
      return void problems.push(`${where}: ${JSON.stringify(region)} is not a region name (1-32 of [a-z0-9-], starting with a letter or digit)`);
    if (regions.includes(region)) return void problems.push(`${where}: region ${region} is listed twice (a region is in at most one zone)`);
    regions.push(region);
    if (zone !== undefined) zones[region] = zone;
  };
  value.forEach((item: unknown, i) => {
    if (!isObject(item)) return add(item, `[${i}]`);
    const extra = Object.keys(item).filter((k) => !ZONE_FIELDS.includes(k));
    if (extra.length) problems.push(`[${i}]: unknown field(s) ${extra.join(", ")} (a zone is {"zone", "regions"})`);
    const zone = item.zone;
    if (typeof zone !== "string" || !REGION_PATTERN.test(zone))
      return void problems.push(`[${i}].zone must be a name of 1-32 of [a-z0-9-], starting with a letter or digit, got ${JSON.stringify(zone)}`);
    if (zoneNames.has(zone)) problems.push(`[${i}]: zone ${zone} is listed twice`);
    zoneNames.add(zone);
    if (!Array.isArray(item.regions) || item.regions.length === 0 || item.regions.length > MAX_ZONE_REGIONS)
      return void problems.push(`[${i}].regions must be an array of 1-${MAX_ZONE_REGIONS} region names`);
    item.regions.forEach((r: unknown, j) => add(r, `[${i}].regions[${j}]`, zone));
  });
  if (regions.length > MAX_REGIONS) problems.push(`names ${regions.length} regions; at most ${MAX_REGIONS}`);
  return { regions, zones, problems };
}
