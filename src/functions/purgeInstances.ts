/** `purgeInstances`: timer → purgeFinishedInstances (src/usecases): Durable histories of tickets past their retention. */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { purgeFinishedInstances } from "../usecases/purgeInstances";
import { durableHistory, portsFor } from "./wiring";

/** Every 10 minutes (NCRONTAB, seconds first): a purge finds little each time, so it stays cheap. */
export const PURGE_SCHEDULE = "0 */10 * * * *";

export async function purgeInstances(_timer: Timer | unknown, context: InvocationContext): Promise<{ purged: number }> {
  const ports = portsFor(context);
  return { purged: await purgeFinishedInstances({ ...ports, instanceHistory: durableHistory(df.getClient(context)) }) };
}

app.timer("purgeInstances", {
  schedule: PURGE_SCHEDULE,
  runOnStartup: false,
  useMonitor: true,
  extraInputs: [df.input.durableClient()],
  handler: purgeInstances,
});
