/**
 * The simulator's HTTP calls: bounded pools (a burst of ticket requests must not hold back the polls of
 * players who already have one, nor the game servers' calls: each real player is its own client), with
 * retries on 5xx/429 and on refused connections (the runtime restarting in tests).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Limiter } from "../../src/lib/limiter";
import { requestJson, type JsonResponse } from "../jsonHttp";

export type Pool = "tickets" | "polls" | "servers";

export interface HttpCallOptions {
  body?: unknown;
  /** Send the function key (game-server API). */
  withKey?: boolean;
  headers?: Record<string, string>;
  /** Called when the request actually leaves the pool (time-to-match counts from here). */
  onSend?: () => void;
}

export type HttpCall = (pool: Pool, method: string, url: string, o?: HttpCallOptions) => Promise<JsonResponse>;

export interface SimulatorHttp {
  call: HttpCall;
  /** 5xx/429 answers and failed connections seen (each one retried). */
  errors(): number;
}

export function simulatorHttp(o: { baseUrl: string; functionKey?: string; concurrency?: number; deadline: number }): SimulatorHttp {
  const per = Math.max(2, Math.floor((o.concurrency ?? 48) / 3));
  const pools: Record<Pool, Limiter> = { tickets: new Limiter(per), polls: new Limiter(per), servers: new Limiter(per) };
  const key = o.functionKey ?? "";
  let errors = 0;
  const call: HttpCall = (pool, method, url, c = {}) =>
    pools[pool].run(async () => {
      c.onSend?.();
      const headers = { ...(c.withKey && key ? { "x-functions-key": key } : {}), ...c.headers };
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await requestJson(url.startsWith("http") ? url : `${o.baseUrl}${url}`, method, c.body, headers);
          if (res.status >= 500 || res.status === 429) {
            errors++;
            if (attempt < 20 && Date.now() < o.deadline) {
              await sleep(200 * (attempt + 1));
              continue;
            }
          }
          return res;
        } catch (err) {
          errors++;
          if (attempt >= 50 || Date.now() > o.deadline) throw err;
          await sleep(100 * Math.min(10, attempt + 1));
        }
      }
    });
  return { call, errors: () => errors };
}
