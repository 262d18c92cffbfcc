/** The rule-set lab's population syntax (`--population`), and the players it draws. */
import { describe, expect, it } from "vitest";
import { DEFAULT_POPULATION, parsePopulation, planUnits } from "../../tools/simulation/population";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSimulateArgs, USAGE } from "../../tools/simulate";
import { percentile } from "../../src/lib/percentile";

describe("--population", () => {
  it("parses the issue's example, values with commas inside included", () => {
    expect(parsePopulation("skill=normal(1500,300),party=1:70,2:20,3:10")).toEqual({
      skill: { kind: "normal", mean: 1500, sd: 300 },
      party: [
        { size: 1, weight: 70 },
        { size: 2, weight: 20 },
        { size: 3, weight: 10 },
      ],
      partySkill: { kind: "normal", mean: 0, sd: 100 },
      seed: 1,
    });
    expect(parsePopulation("party=2:1, skill = uniform(0, 3000), partyskill=const(0), seed=7")).toMatchObject({
      skill: { kind: "uniform", min: 0, max: 3000 },
      party: [{ size: 2, weight: 1 }],
      partySkill: { kind: "const", value: 0 },
      seed: 7,
    });
    expect(parsePopulation(DEFAULT_POPULATION).party).toEqual([{ size: 1, weight: 100 }]);
  });

  it.each([
    ["skill=gauss(1,2)", /normal\(MEAN,SD\), uniform\(MIN,MAX\) or const\(V\)/],
    ["skill=normal(1500)", /takes 2 number/],
    ["skill=normal(1500,-3)", /SD >= 0/],
    ["skill=uniform(10,5)", /MIN <= MAX/],
    ["party=1:70,2", /SIZE:WEIGHT/],
    ["party=0:10", /at least 1/],
    ["party=1:0", /must not all be 0/],
    ["party=1:5,1:5", /named once/],
    ["level=3", /unknown key "level"/],
    ["skill=const(1),skill=const(2)", /given twice/],
    ["seed=1.5", /integer/],
    ["skill", /not key=value/],
  ])("refuses %s", (spec, message) => {
    expect(() => parsePopulation(spec)).toThrow(message);
  });

  it("draws the same players for the same seed, parties of the weighted sizes, members near their leader", () => {
    const pop = parsePopulation("skill=normal(1500,300),party=1:70,2:20,3:10,partyskill=normal(0,50),seed=42");
    const units = planUnits(pop, 3000, 5, "x");
    expect(planUnits(pop, 3000, 5, "x")).toEqual(units);
    expect(units.reduce((n, u) => n + u.members.length, 0)).toBe(3000);
    const ids = units.flatMap((u) => u.members.map((m) => m.playerId));
    expect(new Set(ids).size).toBe(3000);
    const share = (size: number) => units.filter((u) => u.members.length === size).length / units.length;
    expect(share(1)).toBeGreaterThan(0.65);
    expect(share(1)).toBeLessThan(0.75);
    expect(share(3)).toBeGreaterThan(0.07);
    const leaders = units.map((u) => u.members[0]!.skill);
    expect(percentile(leaders, 50)).toBeGreaterThan(1450);
    expect(percentile(leaders, 50)).toBeLessThan(1550);
    // About 68% within one SD of the mean: a normal, not a uniform.
    expect(leaders.filter((s) => Math.abs(s - 1500) <= 300).length / leaders.length).toBeGreaterThan(0.63);
    expect(leaders.filter((s) => Math.abs(s - 1500) <= 300).length / leaders.length).toBeLessThan(0.73);
    const offsets = units.flatMap((u) => u.members.slice(1).map((m) => Math.abs(m.skill - u.members[0]!.skill)));
    expect(percentile(offsets, 95)).toBeLessThan(150);
    expect(units.every((u) => u.members.every((m) => Number.isInteger(m.skill)))).toBe(true);
    expect(parsePopulation("seed=43").seed).not.toBe(pop.seed);
  });

  it("refuses parties above the mode's maxPartySize, and cuts the last one to the players left", () => {
    expect(() => planUnits(parsePopulation("party=1:1,4:1"), 10, 3)).toThrow(/party size 4 is above the mode's maxPartySize 3/);
    const units = planUnits(parsePopulation("party=3:1"), 10, 3);
    expect(units.map((u) => u.members.length)).toEqual([3, 3, 3, 1]);
  });

  it("--population needs --rules; a bad rules file is refused with every problem; --help documents the syntax", () => {
    expect(() => parseSimulateArgs(["--population", "skill=const(1)"])).toThrow(/needs --rules/);
    expect(() => parseSimulateArgs(["--rules", "/nonexistent/rules.json"])).toThrow(/ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), "rules-"));
    try {
      const bad = join(dir, "bad.json");
      writeFileSync(bad, JSON.stringify({ ranked: { teams: 2, teamSize: 5, maxPartySize: 6, skill: { window: -1 } } }));
      expect(() => parseSimulateArgs(["--rules", bad])).toThrow(/maxPartySize 6 is above teamSize 5[\s\S]*skill\.window must be/);
      const good = join(dir, "good.json");
      writeFileSync(good, JSON.stringify({ duel: 2, ranked: { teams: 2, teamSize: 5, maxPartySize: 3, skill: { window: 100 } } }));
      const a = parseSimulateArgs(["--rules", good, "--mode", "ranked", "--population", "party=1:1,3:1"]);
      expect(a.rules?.modes.ranked).toMatchObject({ size: 10, maxPartySize: 3 });
      expect(a.population?.party.map((p) => p.size)).toEqual([1, 3]);
      expect(a.chart).toMatch(/simulate-quality\.svg$/);
      expect(parseSimulateArgs(["--rules", good]).mode).toBe("duel");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(USAGE).toContain("--population SPEC");
    expect(USAGE).toContain("party=SIZE:WEIGHT");
  });
});
