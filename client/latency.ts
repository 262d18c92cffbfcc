/**
 * Latency to each region's matchmaker, for a ticket's `latencies` ({region: ms}): the median of a few
 * `GET /api/ping` round trips (the deployment's anonymous probe), each bounded by a timeout. Over HTTP, since
 * Functions serve no UDP: the first probe also pays for DNS, TCP and TLS, so it is a warm-up and not counted
 * unless it is the only one that answered. A region none of whose probes answered in time is left out (the
 * matchmaker then does not place the player there).
 */
import { sleep, trimSlash, type FetchLike } from "./http";

export interface LatencyOptions {
  /** Region → that region's matchmaker origin, e.g. `{ westeurope: "https://mm-weu.example.com" }`. */
  regions: Record<string, string>;
  /** Probes per region (default 5, the first a warm-up). */
  samples?: number;
  /** Longest wait for one probe (default 2000 ms). */
  timeoutMs?: number;
  /** Pause between the probes of a region (default 50 ms). */
  gapMs?: number;
  signal?: AbortSignal;
  fetch?: FetchLike;
}

/** `{region: median ms}` for every region that answered; regions are probed in parallel. */
export async function measureLatencies(o: LatencyOptions): Promise<Record<string, number>> {
  const fetchFn: FetchLike = o.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const samples = Math.max(1, Math.floor(o.samples ?? 5));
  const entries = await Promise.all(
    Object.entries(o.regions).map(async ([region, base]) => {
      const times: number[] = [];
      for (let i = 0; i < samples && !o.signal?.aborted; i++) {
        if (i > 0) await sleep(o.gapMs ?? 50, o.signal);
        const ms = await probe(fetchFn, `${trimSlash(base)}/api/ping`, o.timeoutMs ?? 2000, o.signal);
        if (ms !== undefined) times.push(ms);
      }
      const counted = times.length > 1 ? times.slice(1) : times;
      return [region, counted.length ? median(counted) : undefined] as const;
    }),
  );
  const out: Record<string, number> = {};
  for (const [region, ms] of entries) if (ms !== undefined) out[region] = Math.round(ms);
  return out;
}

/** One round trip in ms, or undefined when it failed or took longer than `timeoutMs`. No request headers: a browser then sends no CORS preflight, which would double the round trip (the answer is no-store, so nothing caches it). */
async function probe(fetchFn: FetchLike, url: string, timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
  const started = performance.now();
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetchFn(url, { method: "GET", signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await res.arrayBuffer();
    return res.ok ? performance.now() - started : undefined;
  } catch {
    return undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
