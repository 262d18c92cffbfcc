/**
 * The anonymous read routes cannot saturate Redis: GET /api/stats is served from a per-instance cache (one
 * store read per region per second, concurrent callers share it), and the OpenAPI document touches no
 * store at all. Counted at the store the handlers really use.
 */
import { describe, expect, it } from "vitest";
import { useTestApp } from "../functions/support/app";
import { setStoreFactory, storeFromSettings } from "../../src/functions/wiring";
import { STATS_CACHE_MS } from "../../src/usecases/stats";

const app = useTestApp();

describe("anonymous routes", () => {
  it("a burst of GET /api/stats costs one store read per region per cache interval", async () => {
    const calls: string[] = [];
    setStoreFactory(async (s) => {
      const st = await storeFromSettings(s);
      return new Proxy(st, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver) as unknown;
          if (typeof v !== "function") return v;
          return (...args: unknown[]) => {
            calls.push(String(key));
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    });
    try {
      const burst = await Promise.all(Array.from({ length: 100 }, () => app.http("stats", { method: "GET", path: "/api/stats" })));
      expect(burst.every((r) => r.status === 200)).toBe(true);
      expect(burst[0]!.headers["cache-control"]).toBe("public, max-age=1");
      expect(calls.filter((c) => c === "stats")).toHaveLength(2); // westeurope and eastus, once
      await new Promise((r) => setTimeout(r, STATS_CACHE_MS + 50));
      expect((await app.http("stats", { method: "GET", path: "/api/stats" })).status).toBe(200);
      expect(calls.filter((c) => c === "stats")).toHaveLength(4);

      for (let i = 0; i < 20; i++) expect((await app.http("openapi", { method: "GET", path: "/api/openapi.json" })).status).toBe(200);
      expect(calls.filter((c) => c === "stats")).toHaveLength(4);
      // The dashboard's recent dead letters are part of the same cached read: one per source per refresh.
      expect(calls.filter((c) => c === "listDeadLetters")).toHaveLength(4);
      expect(calls.filter((c) => c !== "stats" && c !== "listDeadLetters")).toEqual([]);
    } finally {
      app.restoreStore();
    }
  });
});
