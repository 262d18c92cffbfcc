/** What `npm start` prints once the local runtime is up: what it is, its URLs, keys and functions. */
import { LOCAL_RUNTIME_NOTICE, type LocalRuntime } from "./runtime";

export function banner(rt: LocalRuntime): string {
  const lines: string[] = [];
  const rule = "=".repeat(LOCAL_RUNTIME_NOTICE.length + 4);
  lines.push(rule, `  ${LOCAL_RUNTIME_NOTICE}`, rule, "");
  lines.push("HTTP functions:");
  for (const r of [...rt.httpRoutes].sort((a, b) => a.url.localeCompare(b.url))) {
    const methods = r.methods.length >= 5 ? "ANY" : r.methods.join(",");
    lines.push(`  ${methods.padEnd(12)} ${r.url}  [${r.functionName}, auth ${r.authLevel}]`);
  }
  const openapi = rt.httpRoutes.find((r) => /openapi|swagger/i.test(r.url));
  if (openapi) lines.push("", `OpenAPI: ${openapi.url}`);
  lines.push(
    "",
    `Durable status: GET ${rt.durableStatusUrlPattern} (and the other /runtime/webhooks/durabletask routes)`,
    `  they need the system key: code=${rt.keys.durableSystemKey} (LOCAL_DURABLE_SYSTEM_KEY); no client needs it`,
  );
  lines.push(
    "",
    `Function key (auth "function"): x-functions-key: ${rt.keys.functionKeys[0]}   (LOCAL_FUNCTION_KEY)`,
    `Master key   (auth "admin"):    x-functions-key: ${rt.keys.masterKey}   (LOCAL_MASTER_KEY)`,
    "",
    "Functions loaded:",
  );
  for (const f of rt.functions) lines.push(`  ${f.name.padEnd(22)} ${f.trigger.padEnd(22)} ${f.detail}`);
  lines.push(
    "",
    `Redis: ${rt.redisUrl.replace(/\/\/[^@]*@/, "//***@")}   key prefix: ${rt.prefix}`,
    `Event Hubs: in process, ${rt.eventHubs().partitions} partitions per hub, kept in Redis (LOCAL_EVENTHUB_PARTITIONS)`,
    rt.push.describe,
    rt.identity.describe,
    `Function logs: warnings and errors (LOCAL_LOG_LEVEL=information for all)`,
    ...(rt.serviceBanners.length ? ["", ...rt.serviceBanners] : []),
    "",
    "Ctrl+C stops.",
  );
  return lines.join("\n");
}
