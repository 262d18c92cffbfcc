/**
 * End to end through HTTP with the host misbehaving the ways Azure can: a handler that throws mid-batch,
 * duplicated Event Hub deliveries, and a restart of the runtime (abrupt: batches in flight are redelivered)
 * in the middle of a run. No player is lost or assigned twice.
 */
import { expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { api, matchSettings, useApp, until } from "./harness";

const MODES = { duel: 2, squad: 4 };
const REGIONS = ["westeurope"];
const app = useApp(matchSettings(MODES, REGIONS, 120));

it("loses nobody and assigns nobody twice through mid-batch throws, duplicate deliveries and a restart", async () => {
  const rt = app();
  // addPlayers: the 2nd batch runs on half its messages and then throws; the 3rd batch is delivered twice.
  rt.faults.throwOn("addPlayers", { nth: 2, mode: "midBatch" });
  rt.faults.duplicateNextBatch("addPlayers");
  // The 4th addPlayers invocation processes half its batch and then the host "dies" under it (below).
  rt.faults.throwOn("addPlayers", { nth: 4, mode: "midBatchStall" });
  // matchMade: the first batch is delivered twice, the 2nd throws after doing its work, the 3rd mid-batch.
  rt.faults.duplicateNextBatch("matchMade");
  rt.faults.throwOn("matchMade", { nth: 2, mode: "after" });
  rt.faults.throwOn("matchMade", { nth: 3, mode: "midBatch" });

  let restarted = false;
  let restartedAt = 0;
  const result = await runSimulation({
    baseUrl: rt.baseUrl,
    players: 240,
    servers: 80,
    mode: "mixed",
    modes: MODES,
    regions: REGIONS,
    functionKey: rt.keys.functionKeys[0],
    gameMs: 100,
    pollIntervalMs: 300,
    deadlineMs: 50_000,
    idPrefix: "fault-",
    // Players are in the hub and partly processed, one batch is half done: the host goes down hard and
    // comes back; that batch was never checkpointed, so it is delivered again.
    onAllRequested: async () => {
      await until(() => rt.faults.stalled() > 0, "the stalled addPlayers batch", 20_000, 20);
      await rt.restart({ abrupt: true });
      restarted = true;
      restartedAt = Date.now();
    },
  });
  expect(restarted).toBe(true);
  // The restart really was mid-run: players were still waiting when it happened.
  expect(result.players.filter((p) => (p.finishedAt ?? 0) > restartedAt).length).toBeGreaterThan(0);
  expect(result.problems).toEqual([]);
  expect(result.failed).toBe(0);
  expect(result.unfinished).toBe(0);
  expect(result.matched).toBe(240);
  const all = [...result.sessions.values()].flatMap((s) => s.players);
  expect(new Set(all).size).toBe(240);
  // Each server ran its sessions one after the other: never more sessions than releases + 1.
  const perServer = new Map<string, number>();
  for (const s of result.sessions.values()) perServer.set(s.serverId, (perServer.get(s.serverId) ?? 0) + 1);
  expect([...perServer.values()].reduce((a, b) => a + b, 0)).toBe(result.sessions.size);

  // The faults really happened.
  expect(rt.faults.fired.get("addPlayers") ?? 0).toBeGreaterThanOrEqual(3);
  expect(rt.faults.fired.get("matchMade") ?? 0).toBeGreaterThanOrEqual(3);
  expect(rt.faults.pending()).toBe(0);

  const stats = await api(rt).call("GET", "/api/stats");
  for (const r of stats.json.regions as { waitingPlayers: number; sessionsReady: number }[]) {
    expect(r.waitingPlayers).toBe(0);
    expect(r.sessionsReady).toBe(0);
  }
}, 58_000);
