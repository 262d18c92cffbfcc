/**
 * The delay before the next attempt of a `callActivityWithRetry`, as the Durable extension computes it
 * (DurableTask.Core RetryInterceptor.ComputeNextDelay): firstRetryInterval × backoffCoefficient^(n−1) for
 * the n-th failure, capped at maxRetryInterval (the extension's default cap is 6 days), and no further
 * attempt once the orchestrator's time has passed firstAttempt + retryTimeout or the delay is zero.
 * A timer follows every failure, the last one included: the library decides after that timer fires that
 * the attempts are used up (RetryableTask).
 */
import type { RetryOptionsJson } from "./actions";

/** SerializableRetryOptions.DefaultMaxRetryinterval of the extension. */
export const DEFAULT_MAX_RETRY_INTERVAL_MS = 6 * 24 * 3600 * 1000;

/**
 * `failures`: failed attempts so far (1 after the first). Times in ms of orchestrator time: `firstAttemptAt`
 * when the first attempt was scheduled, `failedAt` the episode that sees the failure.
 * Returns undefined when the extension stops retrying.
 */
export function retryDelayMs(options: RetryOptionsJson, failures: number, firstAttemptAt: number, failedAt: number): number | undefined {
  const timeout = options.retryTimeoutInMilliseconds;
  if (typeof timeout === "number" && Number.isFinite(timeout) && failedAt >= firstAttemptAt + timeout) return undefined;
  const coefficient = typeof options.backoffCoefficient === "number" ? options.backoffCoefficient : 1;
  const cap = typeof options.maxRetryIntervalInMilliseconds === "number" ? options.maxRetryIntervalInMilliseconds : DEFAULT_MAX_RETRY_INTERVAL_MS;
  const delay = options.firstRetryIntervalInMilliseconds * coefficient ** (failures - 1);
  const capped = delay < cap ? delay : cap;
  return capped > 0 && Number.isFinite(capped) ? capped : undefined;
}
