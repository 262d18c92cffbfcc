/**
 * End to end through the app in the local runtime (issue 14): three regions served as one zone, a mode with
 * a latency rule, one population played twice by the simulator (tools/simulation/latency.ts) — reporting
 * latencies, and forced into each player's nearest region. Every match is placed in a region its players
 * reported, within the max in force, and says each player's latency to it; the zone lets groups use the
 * regions with free servers. The steps are short so that the test runs in seconds; the full comparison is
 * `npm run simulate -- --latency` (README).
 */
import { expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { latencyPopulation, latencyReport, latencyTable, sessionRegion } from "../../tools/simulation/latency";
import { useApp } from "./harness";

const REGIONS = ["westeurope", "northeurope", "uksouth"];
const GEO = { teamSize: 4, latency: { max: 60, widen: [{ afterSeconds: 2, max: 120 }] } };
const TIMEOUT_SECONDS = 12;
const app = useApp({
  MATCH_MODES: JSON.stringify({ geo: GEO }),
  DEFAULT_MODE: "geo",
  MATCH_REGIONS: JSON.stringify([{ zone: "eu", regions: REGIONS }]),
  MATCH_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
});

it("players with latencies are matched in regions they reported, within the max in force, and told their latency there", async () => {
  const rt = app();
  const players = 120;
  const places = latencyPopulation(players, REGIONS, 5);
  const run = (sendLatencies: boolean) =>
    runSimulation({
      baseUrl: rt.baseUrl,
      players,
      servers: 12,
      mode: "geo",
      modes: { geo: 4 },
      regions: REGIONS,
      functionKey: rt.keys.functionKeys[0],
      gameMs: 200,
      pollIntervalMs: 300,
      deadlineMs: (TIMEOUT_SECONDS + 10) * 1000,
      idPrefix: sendLatencies ? "lat-" : "near-",
      latencyPlaces: places,
      sendLatencies,
    });
  const forced = await run(false);
  const byLatency = await run(true);
  const reports = [latencyReport("with latencies", byLatency.players, places), latencyReport("forced", forced.players, places)];
  console.log(`latency e2e: ${players} players\n${latencyTable(reports)}`);
  for (const result of [byLatency, forced]) {
    // The session checks (whole sessions, one server, each player in a region it reported or its own) found nothing.
    expect(result.problems).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.unfinished).toBe(0);
    expect(result.matched + result.timedOut).toBe(players);
  }
  const matched = byLatency.players.map((r, i) => ({ r, place: places[i]! })).filter(({ r }) => r.status === "matched");
  expect(matched.length).toBeGreaterThan(players * 0.8);
  for (const { r, place } of matched) {
    const region = sessionRegion(r.sessionId!);
    // The match says the latency the player reported to the region it was placed in, within the widest max.
    expect(r.latencyMs, r.playerId).toBe(place.latencies[region]);
    expect(r.latencyMs!).toBeLessThanOrEqual(GEO.latency.widen[0]!.max);
  }
  // The zone is used: some groups were placed away from a player's nearest region (where servers were free).
  expect(matched.some(({ r, place }) => sessionRegion(r.sessionId!) !== place.home)).toBe(true);
  // Forced into the nearest region, every match is there.
  for (const [i, r] of forced.players.entries()) if (r.status === "matched") expect(sessionRegion(r.sessionId!)).toBe(places[i]!.home);
}, 90_000);
