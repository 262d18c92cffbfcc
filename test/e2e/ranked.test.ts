/**
 * End to end through the app in the local runtime (the one `npm start` runs), issue 11: a 5v5 ranked mode
 * with parties and skill windows that widen, players drawn from a skill distribution by the rule-set lab.
 * Everyone is matched or cleanly timed out; every match kept the window in force for its wait; teams are
 * exact and parties whole on one team (tools/simulation/rules.ts checks each from the players' own
 * outputs and their known skills). The steps are short so that the test runs in seconds; the 1,000-player
 * run with DESIGN.md's 15 s / 30 s steps is `npm run simulate -- --rules ... --population ...` (README).
 */
import { expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { parsePopulation } from "../../tools/simulation/population";
import { normalizeModes } from "../../src/domain/modeRules";
import { api, useApp } from "./harness";

const RANKED = {
  teams: 2,
  teamSize: 5,
  maxPartySize: 3,
  skill: {
    window: 150,
    widen: [
      { afterSeconds: 2, window: 400 },
      { afterSeconds: 4, window: 1200 },
    ],
  },
};
const TIMEOUT_SECONDS = 12;
const app = useApp({
  MATCH_MODES: JSON.stringify({ ranked: RANKED }),
  DEFAULT_MODE: "ranked",
  MATCH_REGIONS: '["westeurope"]',
  MATCH_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
});

it("5v5 ranked with parties: everyone matched or cleanly timed out, every match within its window, teams exact, parties whole", async () => {
  const rt = app();
  const players = 200;
  const result = await runSimulation({
    baseUrl: rt.baseUrl,
    players,
    servers: 30,
    mode: "ranked",
    modes: { ranked: 10 },
    modeRules: normalizeModes({ ranked: RANKED }),
    population: parsePopulation("skill=normal(1500,300),party=1:60,2:25,3:15,partyskill=normal(0,60),seed=11"),
    regions: ["westeurope"],
    functionKey: rt.keys.functionKeys[0],
    gameMs: 200,
    pollIntervalMs: 300,
    deadlineMs: (TIMEOUT_SECONDS + 10) * 1000,
    idPrefix: "ranked-",
  });
  const r = result.rules!;
  console.log(
    `ranked e2e: ${players} players, matched ${(r.matchedShare * 100).toFixed(1)}%, wait p50 ${r.waitSeconds.p50.toFixed(1)} s p95 ${r.waitSeconds.p95.toFixed(1)} s, ` +
      `spread p50 ${r.skillSpread.p50} p95 ${r.skillSpread.p95}, team gap p50 ${r.teamGap.p50} p95 ${r.teamGap.p95}, ${r.matches.length} matches`,
  );
  // The rules checks (windows, teams, parties) and the session checks found nothing.
  expect(result.problems).toEqual([]);
  expect(result.failed).toBe(0);
  expect(result.unfinished).toBe(0);
  expect(result.matched + result.timedOut).toBe(players);
  // A population of 200 with widening to 1200 leaves almost nobody out; sessions are whole matches of 10.
  expect(r.matchedShare).toBeGreaterThan(0.8);
  expect(result.matched % 10).toBe(0);
  expect(r.matches.length).toBe(result.matched / 10);
  // Parties were there to keep whole: some matches hold a party.
  expect(result.players.filter((p) => p.status === "matched" && p.party).length).toBeGreaterThan(10);
  // Widening is what let the later matches through: some match waited past the first step with a spread
  // above the first window, and none exceeded the window in force at its wait.
  expect(r.matches.some((m) => m.spread > RANKED.skill.window)).toBe(true);
  for (const m of r.matches) expect(m.spread).toBeLessThanOrEqual(m.window);

  // The stats report the mode's quality and an estimated wait.
  const stats = await api(rt).call("GET", "/api/stats");
  const ranked = stats.json.regions[0].byMode.ranked;
  expect(ranked.recentMatches).toBe(r.matches.length);
  expect(ranked.estimatedWaitSeconds).toBeGreaterThanOrEqual(0);
  expect(ranked.estimatedWaitSeconds).toBeLessThanOrEqual(TIMEOUT_SECONDS);
}, 60_000);
