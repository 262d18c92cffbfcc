/** The JSON-over-fetch calls of the client library (browser and Node 20+: only `fetch` and `AbortSignal`). */

/** A 4xx/5xx answer of the matchmaker: `{error, detail}` as the API documents. */
export class MatchmakerError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
    readonly body: unknown,
  ) {
    super(`${status} ${error}: ${detail}`);
    this.name = "MatchmakerError";
  }
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export async function callJson<T>(
  fetchFn: FetchLike,
  url: string,
  init: { method: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
): Promise<JsonAnswer<T>> {
  const res = await fetchFn(url, {
    method: init.method,
    headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Throws a MatchmakerError unless the answer has one of the expected statuses. */
export function expectStatus<T>(answer: JsonAnswer<T>, ...ok: number[]): JsonAnswer<T> {
  if (ok.includes(answer.status)) return answer;
  const b = (answer.body ?? {}) as { error?: unknown; detail?: unknown };
  throw new MatchmakerError(
    answer.status,
    typeof b.error === "string" ? b.error : "http_error",
    typeof b.detail === "string" ? b.detail : `unexpected HTTP ${answer.status}`,
    answer.body,
  );
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const v = headers.get("retry-after");
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`, or less if the signal aborts (then resolves; the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export const trimSlash = (url: string) => url.replace(/\/+$/, "");
