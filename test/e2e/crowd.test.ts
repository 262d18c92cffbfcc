/**
 * End to end through HTTP: 1,000 players in mixed modes and two regions, enough servers. Every player is
 * matched and learns it by polling the Durable status endpoint; every session is full, on exactly one
 * server, and nobody is in two sessions.
 */
import { expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { api, matchSettings, useApp } from "./harness";

const MODES = { duel: 2, squad: 4 };
const REGIONS = ["westeurope", "eastus"];
const app = useApp(matchSettings(MODES, REGIONS, 120));

it("matches 1,000 players in mixed modes and regions, each learning it from the status endpoint", async () => {
  const rt = app();
  const episodesBefore = rt.durable()!.metrics().orchestratorEpisodes;
  const result = await runSimulation({
    baseUrl: rt.baseUrl,
    players: 1000,
    servers: 400,
    mode: "mixed",
    modes: MODES,
    regions: REGIONS,
    functionKey: rt.keys.functionKeys[0],
    gameMs: 50,
    pollIntervalMs: 1000,
    deadlineMs: 50_000,
    idPrefix: "crowd-",
  });
  expect(result.problems).toEqual([]);
  expect(result.failed).toBe(0);
  expect(result.unfinished).toBe(0);
  expect(result.matched).toBe(1000);
  // Every player in exactly one session; sessions hold exactly their mode's size.
  const all = [...result.sessions.values()].flatMap((s) => s.players);
  expect(new Set(all).size).toBe(1000);
  expect(all).toHaveLength(1000);
  for (const s of result.sessions.values()) expect(s.players).toHaveLength(MODES[s.mode as keyof typeof MODES]);
  // Each session on one server of its own region.
  for (const s of result.sessions.values()) expect(s.serverId).toMatch(/^crowd-srv\d+$/);
  const regionOfServer = (id: string) => REGIONS[Number(id.replace("crowd-srv", "")) % REGIONS.length];
  for (const s of result.sessions.values()) expect(regionOfServer(s.serverId)).toBe(s.region);
  // Every player learned its outcome by polling the status endpoint.
  for (const p of result.players) expect(p.polls).toBeGreaterThan(0);

  // Cost: a matched player costs about two orchestrator episodes (start, ServerReady).
  const episodes = rt.durable()!.metrics().orchestratorEpisodes - episodesBefore;
  console.log(
    `crowd: ${result.durationMs} ms, time to match p50 ${result.p50} p95 ${result.p95} p99 ${result.p99} ms, ${result.sessions.size} sessions, ${(episodes / 1000).toFixed(2)} episodes/player`,
  );
  expect(episodes / 1000).toBeLessThanOrEqual(3);

  // Nothing left waiting anywhere.
  const stats = await api(rt).call("GET", "/api/stats");
  expect(stats.status).toBe(200);
  for (const r of stats.json.regions as { waitingPlayers: number; sessionsOpen: number; sessionsReady: number }[]) {
    expect(r.waitingPlayers).toBe(0);
    expect(r.sessionsOpen).toBe(0);
    expect(r.sessionsReady).toBe(0);
  }
}, 60_000);
