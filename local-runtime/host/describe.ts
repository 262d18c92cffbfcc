/** One line per function for the banner: its trigger and what drives it (route, hub, schedule). */
import type { Registration } from "../functionsCore";
import { retryPolicyOf } from "./eventHubs";

export interface FunctionInfo {
  name: string;
  trigger: string;
  /** Human description: route and methods, hub and cardinality, schedule... */
  detail: string;
}

export function describeFunction(reg: Registration, resolve: (s: string) => string): FunctionInfo {
  const t = reg.trigger as Record<string, unknown> & { type: string };
  const type = t.type;
  let detail = "";
  if (/^httpTrigger$/i.test(type)) {
    const methods = (t.methods as string[] | undefined)?.join(",") ?? "ALL";
    detail = `${methods} ${resolve(String(t.route ?? reg.metadata.name))} (auth: ${String(t.authLevel ?? "anonymous")})`;
  } else if (/^eventHubTrigger$/i.test(type)) {
    const retry = retryPolicyOf(reg);
    detail =
      `hub ${resolve(String(t.eventHubName))}, cardinality ${String(t.cardinality ?? "many")}` +
      (retry ? `, retry ${retry.strategy} ${retry.maxRetryCount === -1 ? "until success" : `x${retry.maxRetryCount}`}` : ", no retry policy");
  } else if (/^timerTrigger$/i.test(type)) {
    detail = `schedule ${resolve(String(t.schedule))}${t.runOnStartup ? ", runOnStartup" : ""}`;
  } else if (/^orchestrationTrigger$/i.test(type)) detail = "Durable orchestrator";
  else if (/^activityTrigger$/i.test(type)) detail = "Durable activity";
  else if (/^entityTrigger$/i.test(type)) detail = "Durable entity";
  return { name: reg.metadata.name, trigger: type, detail };
}
