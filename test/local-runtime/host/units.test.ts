/** Pure pieces of the local host and the simulator: route templates, retry delays, partitioning, planning. */
import { expect, it } from "vitest";
import { compileRoute, matchRoute } from "../../../local-runtime/host/routes";
import { partitionForKey, retryDelayMs } from "../../../local-runtime/host/eventHubs/index";
import { resolveBindingExpression } from "../../../local-runtime/host/appConfig";
import { planPlayers, timeToMatchChart } from "../../../tools/simulate";

it("matches route templates like the host", () => {
  const r = compileRoute("servers/{serverId}/release");
  expect(matchRoute(r, "/servers/abc/release")).toEqual({ serverId: "abc" });
  expect(matchRoute(r, "/SERVERS/abc/Release")).toEqual({ serverId: "abc" });
  expect(matchRoute(r, "/servers/abc")).toBeUndefined();
  expect(matchRoute(compileRoute("items/{id:int}"), "items/42")).toEqual({ id: "42" });
  expect(matchRoute(compileRoute("items/{id:int}"), "items/x")).toBeUndefined();
  expect(matchRoute(compileRoute("a/{b?}"), "a")).toEqual({});
  expect(matchRoute(compileRoute("files/{*path}"), "files/x/y%20z")).toEqual({ path: "x/y z" });
  expect(matchRoute(compileRoute("t/{id:minlength(3)}"), "t/ab")).toBeUndefined();
  // Literal segments win over parameters.
  expect(compileRoute("servers/list").precedence).toBeGreaterThan(compileRoute("servers/{id}").precedence);
});

it("computes retry delays per strategy", () => {
  expect(retryDelayMs({ strategy: "fixedDelay", maxRetryCount: 3, delayMs: 500, minMs: 0, maxMs: 0 }, 2)).toBe(500);
  const exp = { strategy: "exponentialBackoff" as const, maxRetryCount: -1, delayMs: 0, minMs: 1000, maxMs: 5000 };
  expect([1, 2, 3, 4].map((a) => retryDelayMs(exp, a))).toEqual([1000, 2000, 4000, 5000]);
});

it("maps a partition key to one partition, always", () => {
  const p = partitionForKey("player-1", 4);
  for (let i = 0; i < 5; i++) expect(partitionForKey("player-1", 4)).toBe(p);
  const used = new Set(Array.from({ length: 100 }, (_, i) => partitionForKey(`k${i}`, 4)));
  expect(used.size).toBe(4);
});

it("resolves %SETTING% binding expressions and refuses unknown settings", () => {
  expect(resolveBindingExpression("%HUB%-x", { HUB: "player-requests" })).toBe("player-requests-x");
  expect(() => resolveBindingExpression("%NOPE%", {})).toThrow(/NOPE/);
});

it("plans players in whole sessions across modes and regions", () => {
  const plan = planPlayers({ players: 30, mode: "mixed", modes: { duel: 2, squad: 4 }, regions: ["a", "b"] });
  expect(plan).toHaveLength(30);
  expect(new Set(plan.map((p) => p.playerId)).size).toBe(30);
  const buckets = new Map<string, number>();
  for (const p of plan) buckets.set(`${p.mode}/${p.region}`, (buckets.get(`${p.mode}/${p.region}`) ?? 0) + 1);
  for (const [k, n] of buckets) expect(n % (k.startsWith("duel") ? 2 : 4)).toBe(0);
  expect(new Set(plan.map((p) => p.region))).toEqual(new Set(["a", "b"]));
});

it("draws the time-to-match histogram", () => {
  const players = Array.from({ length: 50 }, (_, i) => ({
    playerId: `p${i}`,
    mode: "duel",
    region: "a",
    status: "matched" as const,
    polls: 1,
    timeToMatchMs: i * 10,
  }));
  const svg = timeToMatchChart(
    {
      players,
      matched: 50,
      timedOut: 0,
      failed: 0,
      unfinished: 0,
      p50: 250,
      p95: 470,
      p99: 490,
      durationMs: 1,
      sessions: new Map(),
      releases: 0,
      toldAfterMatch: {
        p50: 40,
        p99: 90,
        players: 50,
        byPush: { p50: 40, p99: 90, players: 50 },
        connectedAfterMatch: { players: 0, connectedP50: NaN, ticketAnsweredP50: NaN },
      },
      statusReadsPerMatched: 1,
      problems: [],
      httpErrors: 0,
    },
    "t",
  );
  expect(svg.startsWith("<svg") || svg.startsWith("<?xml")).toBe(true);
  expect(svg.match(/class="bar"/g)).toHaveLength(30);
  expect(svg).toContain("p95");
});
