/**
 * The retry policy of an Event Hub trigger (`retry` in its registration: fixedDelay or exponentialBackoff,
 * maxRetryCount with -1 = forever), as the host applies it to a failing batch before the checkpoint advances.
 */
import type { Registration } from "../../functionsCore";

export interface RetryPolicy {
  strategy: "fixedDelay" | "exponentialBackoff";
  maxRetryCount: number;
  delayMs: number;
  minMs: number;
  maxMs: number;
}

export function retryPolicyOf(reg: Registration): RetryPolicy | undefined {
  const r = reg.metadata.retryOptions;
  if (!r || r.maxRetryCount === undefined) return undefined;
  const ms = (d: unknown): number => {
    if (d && typeof d === "object") {
      const o = d as { seconds?: number | string; nanos?: number };
      return Number(o.seconds ?? 0) * 1000 + Math.round(Number(o.nanos ?? 0) / 1e6);
    }
    return typeof d === "number" ? d : 0;
  };
  const strategy = /exponential/i.test(String(r.retryStrategy ?? "")) ? "exponentialBackoff" : "fixedDelay";
  return { strategy, maxRetryCount: Number(r.maxRetryCount), delayMs: ms(r.delayInterval), minMs: ms(r.minimumInterval), maxMs: ms(r.maximumInterval) };
}

export function retryDelayMs(p: RetryPolicy, attempt: number): number {
  if (p.strategy === "fixedDelay") return p.delayMs;
  const d = p.minMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(p.maxMs || d, d);
}
