/**
 * The simulator's push mode (players are the client library) against the local runtime, which plays Web
 * PubSub: everyone matched, consistent sessions, about one status read per player, and the time from the
 * match to the player being told is measured for the sessions a push reached.
 */
import { expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { pushClient } from "../../tools/simulation/pushPlayer";
import { matchSettings, useApp } from "../e2e/harness";

const MODES = { duel: 2, squad: 4 };
const app = useApp(matchSettings(MODES, ["westeurope"], 60));

it("push mode: 60 players matched, told by push, with about one status read each", { timeout: 90_000 }, async () => {
  const rt = app();
  const result = await runSimulation(
    {
      baseUrl: rt.baseUrl,
      players: 60,
      servers: 30,
      mode: "mixed",
      modes: MODES,
      regions: ["westeurope"],
      functionKey: rt.keys.functionKeys[0],
      // Longer games than polling needs: a player whose push connection comes up late reads its ticket, and
      // after its server is released the store's record lists that player alone.
      gameMs: 4_000,
      deadlineMs: 50_000,
      idPrefix: "simpush-",
    },
    pushClient,
  );
  expect(result.problems).toEqual([]);
  expect(result.matched).toBe(60);
  const byPush = result.players.filter((p) => p.via === "push").length;
  // All arrive at once and match within milliseconds, so many connect after their match: those read it once.
  expect(byPush).toBeGreaterThan(0);
  expect(result.players.every((p) => p.via === "push" || p.via === "poll")).toBe(true);
  // One read once connected (the late-connection safety net), none while waiting.
  expect(result.statusReadsPerMatched).toBeLessThanOrEqual(1.5);
  // Measured over the sessions whose assignment time a push told (every player of such a session counts).
  expect(result.toldAfterMatch.players).toBeGreaterThanOrEqual(byPush);
  expect(result.toldAfterMatch.p50).toBeGreaterThanOrEqual(0);
});
