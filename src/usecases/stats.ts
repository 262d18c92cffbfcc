/** Queue depth per mode, sessions open/ready, servers free/busy and time to match, per region. */
import type { RegionStats } from "../store/types";
import type { Ports } from "./ports";

export interface StatsReport {
  at: string;
  modes: Record<string, number>;
  regions: RegionStats[];
}

export async function readStats(p: Pick<Ports, "settings" | "store" | "clock">, regions: readonly string[]): Promise<StatsReport> {
  const perRegion = await Promise.all(regions.map((r) => p.store.stats(r)));
  return { at: new Date(p.clock()).toISOString(), modes: p.settings.modes, regions: perRegion };
}
