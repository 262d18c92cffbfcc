/**
 * `assignSessions`: the sweeper, on the ASSIGN_SCHEDULE timer (every few seconds) → sweepRegions
 * (src/usecases/sweepRegion.ts): per region expire servers and stale players, re-publish the outbox,
 * assign and announce, signal scale-out.
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { ASSIGN_SCHEDULE_EXPR } from "../config/settings";
import { sweepRegions, type RegionSweep } from "../usecases/sweepRegion";
import { portsFor } from "./wiring";

export async function assignSessions(_timer: Timer | unknown, context: InvocationContext): Promise<RegionSweep[]> {
  return sweepRegions(portsFor(context));
}

app.timer("assignSessions", {
  schedule: ASSIGN_SCHEDULE_EXPR,
  // A missed tick is not worth catching up on: the next one does the same work.
  runOnStartup: false,
  useMonitor: true,
  handler: assignSessions,
});
