/**
 * How long one script call keeps Redis busy: the CPU time of redis-server's main thread (the one that runs
 * scripts) across the call, from /proc/<pid>/schedstat (nanoseconds). Calls must be sequential and nothing
 * else may talk to that server. Used by the bench's longest-call part and by test/store/scriptTime.test.ts.
 *
 * On a shared VM even CPU time is noisy (a fixed Lua loop measured 5.5-15 ms here; single calls 3-4x their
 * neighbours at a different call each run), so a verdict compares two runs of a deterministic scenario call
 * by call and takes the lower of each pair (`lowerOfTwo`).
 */
import { existsSync, readFileSync } from "node:fs";
import type { RedisConnection } from "../src/store";

export interface ScriptCall {
  /** Redis main-thread CPU during the call, µs. */
  micros: number;
  /** The script's name (its SCRIPT_NAME line). */
  what: string;
}

/** The server's main-thread CPU clock, or why it cannot be read (not Linux, another machine). */
export function mainThreadCpuClock(pid: number): { read: () => number } | { unavailable: string } {
  const path = `/proc/${pid}/schedstat`;
  if (!pid || !existsSync(path)) return { unavailable: `redis-server's ${path} cannot be read (Linux, same machine only)` };
  return { read: () => Number(readFileSync(path, "utf8").split(" ")[0]) };
}

/** The redis-server's pid, from INFO server. */
export async function redisPid(conn: Pick<RedisConnection, "command">): Promise<number> {
  const info = await conn.command<string>("any", ["INFO", "server"]);
  return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
}

/** `inner` with every script call's Redis CPU time appended to `sink`. */
export function timedConnection(inner: RedisConnection, cpuNs: () => number, sink: { calls: ScriptCall[] }): RedisConnection {
  return {
    mode: inner.mode,
    command: (firstKey, args, readonly) => inner.command(firstKey, args, readonly),
    close: () => inner.close(),
    runScript: async (firstKey, sha, body, keys, args) => {
      const before = cpuNs();
      const out = await inner.runScript(firstKey, sha, body, keys, args);
      sink.calls.push({ micros: (cpuNs() - before) / 1000, what: /^local SCRIPT_NAME = '(\w+)'/.exec(body)?.[1] ?? sha });
      return out;
    },
  };
}

/**
 * Call i counts by the lower of its two measurements; the worst such call. The runs must have made the same
 * calls (same scripts in the same order): a mismatch is an error, not a verdict.
 */
export function lowerOfTwo(first: ScriptCall[], second: ScriptCall[]): { micros: number; what: string; index: number } {
  if (first.length !== second.length || first.some((c, i) => c.what !== second[i]!.what))
    throw new Error(`the two runs made different script calls (${first.length} vs ${second.length})`);
  let worst = { micros: 0, what: "", index: -1 };
  first.forEach((c, i) => {
    const micros = Math.min(c.micros, second[i]!.micros);
    if (micros > worst.micros) worst = { micros, what: c.what, index: i };
  });
  return worst;
}
