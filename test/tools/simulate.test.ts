/**
 * The simulator's command line (util.parseArgs) and its refusal to start a second runtime next to a running
 * `npm start`: a real local runtime is started on a free port and found by its metrics endpoint.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startLocalRuntime, type LocalRuntime } from "../../local-runtime/host/runtime";
import { freePort } from "../../local-runtime/redisServer";
import { findRunningLocalRuntime, localRuntimePort, probeLocalRuntime, secondRuntimeMessage } from "../../tools/runtimeDetection";
import { parseSimulateArgs, USAGE } from "../../tools/simulate";
import { latencyPopulation, partyPlaces } from "../../tools/simulation/latency";
import { planUnits } from "../../tools/simulation/population";

const repoRoot = join(__dirname, "..", "..");

describe("simulate command line", () => {
  it("parses every flag, with defaults, and refuses unknown flags and bad numbers", () => {
    const a = parseSimulateArgs(["--players", "40", "--mode=squad", "--regions", "a, b", "--url", "http://x:1", "--rate", "12.5", "--timeout-s", "9"]);
    expect(a).toMatchObject({ players: 40, servers: 10, mode: "squad", regions: ["a", "b"], url: "http://x:1", rate: 12.5, timeoutSeconds: 9, help: false });
    expect(parseSimulateArgs([])).toMatchObject({ players: 100, servers: 25, mode: "mixed", regions: [], gameMs: 1000, pollMs: 250, port: 0 });
    expect(parseSimulateArgs(["--help"]).help).toBe(true);
    expect(() => parseSimulateArgs(["--player", "3"])).toThrow(/Unknown option '--player'/);
    expect(() => parseSimulateArgs(["--players", "many"])).toThrow(/--players must be a non-negative number, got "many"/);
    expect(USAGE).toMatch(/--url URL/);
  });

  it("--latency with --rules plays the lab's population (skills, parties) through the rule set; a party lives at its leader's place", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-rules-"));
    try {
      const file = join(dir, "ranked.json");
      writeFileSync(file, JSON.stringify({ ranked: { teams: 2, teamSize: 5, maxPartySize: 5, skill: { window: 200 }, latency: { max: 80 } } }));
      const a = parseSimulateArgs(["--latency", "--rules", file, "--population", "party=1:50,3:50,seed=4"]);
      expect(a).toMatchObject({ latency: true, mode: "ranked", population: { party: [{ size: 1 }, { size: 3 }] } });
      expect(a.rules?.modes.ranked?.latency).toEqual({ max: 80, widen: [] });
      // --latency alone keeps its solo lab mode and no population.
      expect(parseSimulateArgs(["--latency"]).population).toBeUndefined();
      const solo = latencyPopulation(30, ["westeurope", "northeurope"]);
      const places = partyPlaces(solo, a.population!, 5);
      const units = planUnits(a.population!, 30, 5);
      expect(units.some((u) => u.members.length === 3)).toBe(true);
      let first = 0;
      for (const u of units) {
        for (let j = 0; j < u.members.length; j++) expect(places[first + j]).toBe(solo[first]);
        first += u.members.length;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the port npm start uses: LOCAL_PORT, else local.settings.json, else 7071", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-port-"));
    try {
      expect(localRuntimePort(dir, {})).toBe(7071);
      writeFileSync(join(dir, "local.settings.json"), '{ // comments allowed\n "Host": { "LocalHttpPort": 7444 } }');
      expect(localRuntimePort(dir, {})).toBe(7444);
      expect(localRuntimePort(dir, { LOCAL_PORT: "7555" })).toBe(7555);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a running npm start is detected instead of starting a second runtime", () => {
  let rt: LocalRuntime;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    rt = await startLocalRuntime({
      appDir: repoRoot,
      port,
      env: {
        REDIS_CONNECTION_STRING: inject("redisUrl"),
        REDIS_KEY_PREFIX: `sim-${randomUUID().slice(0, 8)}`,
        TICKET_SIGNING_KEY: "sim-detect-ticket-signing-key-0123456789abcdef",
      },
      log: () => undefined,
    });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it("answers with the runtime's URL on its port and nothing on a free port", async () => {
    expect(await probeLocalRuntime(port)).toBe(`http://localhost:${port}`);
    expect(await probeLocalRuntime(await freePort())).toBeUndefined();
    // The runtime's own detection (its lease in Redis) reports the URL it listens on.
    expect(await findRunningLocalRuntime(repoRoot, { LOCAL_PORT: String(port) })).toBe(rt.baseUrl);
  });

  it("tells the user to pass --url", () => {
    expect(secondRuntimeMessage(`http://localhost:${port}`)).toMatch(new RegExp(`npm run simulate -- --url http://localhost:${port}`));
  });
});
