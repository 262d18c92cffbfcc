/**
 * The synthetic population of the rule-set lab (`npm run simulate -- --rules FILE --population SPEC`).
 *
 * SPEC is a comma-separated list of `key=value`; a value may itself hold commas (`party=1:70,2:20`):
 *   skill=normal(MEAN,SD) | uniform(MIN,MAX) | const(V)   the leader's skill (default normal(1500,300))
 *   party=SIZE:WEIGHT,SIZE:WEIGHT,...                      party sizes, leader included, by relative weight
 *                                                          (default 1:100, solo only)
 *   partyskill=normal(MEAN,SD) | uniform(MIN,MAX) | const(V)  each other member's skill as an offset from
 *                                                          its leader's (friends play alike; default normal(0,100))
 *   seed=N                                                 the random seed (default 1): the same SPEC and seed
 *                                                          give the same population
 * Skills are rounded to whole numbers and kept within the range tickets accept.
 */
import { SKILL_MAX, SKILL_MIN } from "../../src/domain/modeRules";
import { seededRandom } from "../seededRandom";

export type Distribution = { kind: "normal"; mean: number; sd: number } | { kind: "uniform"; min: number; max: number } | { kind: "const"; value: number };

export interface Population {
  skill: Distribution;
  party: { size: number; weight: number }[];
  partySkill: Distribution;
  seed: number;
}

export const DEFAULT_POPULATION = "skill=normal(1500,300),party=1:100,partyskill=normal(0,100),seed=1";

/** Splits at the commas that start a new `key=` (outside parentheses). */
function entries(spec: string): [string, string][] {
  const out: [string, string][] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= spec.length; i++) {
    const c = spec[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    if (i === spec.length || (c === "," && depth === 0 && /^\s*[a-z]+\s*=/.test(spec.slice(i + 1)))) {
      const part = spec.slice(start, i).trim();
      start = i + 1;
      if (!part) continue;
      const eq = part.indexOf("=");
      if (eq < 0) throw new Error(`--population: ${JSON.stringify(part)} is not key=value`);
      out.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  return out;
}

function finite(raw: string, what: string): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v)) throw new Error(`--population: ${what} must be a number, got ${JSON.stringify(raw)}`);
  return v;
}

export function parseDistribution(raw: string, key: string): Distribution {
  const m = /^(normal|uniform|const)\(([^)]*)\)$/.exec(raw.replace(/\s+/g, ""));
  if (!m) throw new Error(`--population: ${key} must be normal(MEAN,SD), uniform(MIN,MAX) or const(V), got ${JSON.stringify(raw)}`);
  const args = m[2]!.split(",");
  const want = m[1] === "const" ? 1 : 2;
  if (args.length !== want) throw new Error(`--population: ${key}=${m[1]}(...) takes ${want} number(s), got ${JSON.stringify(raw)}`);
  const [a, b] = args.map((x, i) => finite(x, `${key} argument ${i + 1}`));
  if (m[1] === "normal") {
    if (b! < 0) throw new Error(`--population: ${key}=normal(MEAN,SD) needs SD >= 0, got ${b}`);
    return { kind: "normal", mean: a!, sd: b! };
  }
  if (m[1] === "uniform") {
    if (b! < a!) throw new Error(`--population: ${key}=uniform(MIN,MAX) needs MIN <= MAX, got ${raw}`);
    return { kind: "uniform", min: a!, max: b! };
  }
  return { kind: "const", value: a! };
}

function parseParty(raw: string): Population["party"] {
  const party = raw.split(",").map((item) => {
    const m = /^\s*(\d+)\s*:\s*([0-9.]+)\s*$/.exec(item);
    if (!m) throw new Error(`--population: party must be SIZE:WEIGHT,... (e.g. 1:70,2:20,3:10), got ${JSON.stringify(item)}`);
    const size = Number(m[1]);
    const weight = finite(m[2]!, "a party weight");
    if (size < 1) throw new Error(`--population: a party size must be at least 1, got ${size}`);
    return { size, weight };
  });
  if (new Set(party.map((p) => p.size)).size !== party.length) throw new Error("--population: each party size may be named once");
  if (!party.some((p) => p.weight > 0)) throw new Error("--population: party weights must not all be 0");
  return party;
}

export function parsePopulation(spec: string): Population {
  const pop: Population = {
    skill: { kind: "normal", mean: 1500, sd: 300 },
    party: [{ size: 1, weight: 100 }],
    partySkill: { kind: "normal", mean: 0, sd: 100 },
    seed: 1,
  };
  const seen = new Set<string>();
  for (const [key, value] of entries(spec)) {
    if (seen.has(key)) throw new Error(`--population: ${key} is given twice`);
    seen.add(key);
    if (key === "skill") pop.skill = parseDistribution(value, key);
    else if (key === "party") pop.party = parseParty(value);
    else if (key === "partyskill") pop.partySkill = parseDistribution(value, key);
    else if (key === "seed") {
      pop.seed = finite(value, "seed");
      if (!Number.isInteger(pop.seed)) throw new Error(`--population: seed must be an integer, got ${value}`);
    } else throw new Error(`--population: unknown key ${JSON.stringify(key)} (known: skill, party, partyskill, seed)`);
  }
  return pop;
}

function draw(d: Distribution, random: () => number): number {
  if (d.kind === "const") return d.value;
  if (d.kind === "uniform") return d.min + (d.max - d.min) * random();
  // Box-Muller.
  const u = Math.max(random(), Number.EPSILON);
  return d.mean + d.sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const clampSkill = (v: number): number => Math.min(SKILL_MAX, Math.max(SKILL_MIN, Math.round(v)));

/** One ticket of the population: the leader first, then the other members, each with a skill. */
export interface PlannedUnit {
  members: { playerId: string; skill: number }[];
}

/**
 * `players` players as party tickets drawn from the population. The last ticket is cut to the players left.
 * `maxPartySize`: the mode's; a population naming larger parties is refused (the app would refuse them too).
 */
export function planUnits(pop: Population, players: number, maxPartySize: number, idPrefix = "p"): PlannedUnit[] {
  const tooLarge = pop.party.filter((p) => p.size > maxPartySize && p.weight > 0);
  if (tooLarge.length) throw new Error(`--population: party size ${tooLarge[0]!.size} is above the mode's maxPartySize ${maxPartySize}`);
  const random = seededRandom(pop.seed);
  const total = pop.party.reduce((n, p) => n + p.weight, 0);
  const units: PlannedUnit[] = [];
  let n = 0;
  while (n < players) {
    let r = random() * total;
    const picked = pop.party.find((p) => (r -= p.weight) < 0) ?? pop.party[pop.party.length - 1]!;
    const size = Math.min(picked.size, players - n);
    const lead = clampSkill(draw(pop.skill, random));
    const members = Array.from({ length: size }, (_x, i) => ({
      playerId: `${idPrefix}${n + i}`,
      skill: i === 0 ? lead : clampSkill(lead + draw(pop.partySkill, random)),
    }));
    units.push({ members });
    n += size;
  }
  return units;
}
