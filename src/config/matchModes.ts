/**
 * The `MATCH_MODES` setting parsed into normalized mode rules (src/domain/modeRules.ts), collecting EVERY
 * problem rather than stopping at the first, so an operator fixes a rule set in one go. The published
 * JSON Schema (src/schemas/match-modes.schema.json) says the same in its own language; the test
 * test/config/matchModes.test.ts holds the two to the same verdicts. The checks a JSON Schema cannot express
 * (size = teams × teamSize ≤ 100, maxPartySize ≤ teamSize, ascending widen steps that never narrow) are listed
 * in the schema's description. `latency` combines with every other rule: the pool places parties whole into
 * teams within the skill window and the latency max in force (src/store/lua/poolLatencyTickets.lua).
 */
import { hasOwnName, MODE_PATTERN } from "../domain/fields";
import { LATENCY_MAX_MS } from "../domain/latency";
import { MAX_SKILL_WINDOW, normalizeMode, type ModeRules, type ModeSpec } from "../domain/modeRules";

export const MAX_SESSION_SIZE = 100;
export const MAX_MODES = 50;
export const MAX_WIDEN_STEPS = 10;
export const MAX_WIDEN_AFTER_SECONDS = 3600;

const RULE_FIELDS = ["teams", "teamSize", "maxPartySize", "skill", "latency"];

export interface ParsedModes {
  /** Normalized rules of every mode that had no problem. */
  modes: Record<string, ModeRules>;
  /** One line per problem, each naming the mode and the field. */
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isNumber = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
const unknownFields = (o: Record<string, unknown>, allowed: string[]): string[] => Object.keys(o).filter((k) => !allowed.includes(k));

export function parseMatchModes(value: unknown): ParsedModes {
  const problems: string[] = [];
  const modes: Record<string, ModeRules> = {};
  if (!isObject(value) || Object.keys(value).length === 0) {
    return { modes, problems: ['must be an object like {"duel":2} or {"ranked":{"teams":2,"teamSize":5}}'] };
  }
  if (Object.keys(value).length > MAX_MODES) problems.push(`has ${Object.keys(value).length} modes; at most ${MAX_MODES}`);
  for (const [name, spec] of Object.entries(value)) {
    if (!MODE_PATTERN.test(name)) {
      problems.push(`has an invalid mode name ${JSON.stringify(name)} (1-32 of [a-z0-9_-], starting with a letter or digit)`);
      continue;
    }
    const own = checkSpec(spec).map((p) => `mode ${name}: ${p}`);
    problems.push(...own);
    if (own.length === 0 && !hasOwnName(modes, name)) modes[name] = normalizeMode(spec as ModeSpec);
  }
  return { modes, problems };
}

/** The problems of one mode's spec (empty when it is good). */
function checkSpec(spec: unknown): string[] {
  if (typeof spec === "number") return isInt(spec, 1, MAX_SESSION_SIZE) ? [] : [`session size must be an integer 1-${MAX_SESSION_SIZE}, got ${spec}`];
  if (!isObject(spec)) return [`must be a session size (number) or a rule set (object), got ${JSON.stringify(spec)}`];
  const problems = unknownFields(spec, RULE_FIELDS).map((k) => `unknown field ${JSON.stringify(k)} (known: ${RULE_FIELDS.join(", ")})`);
  const { teams = 1, teamSize, maxPartySize = 1, skill, latency } = spec;
  const teamsOk = isInt(teams, 1, MAX_SESSION_SIZE);
  const teamSizeOk = isInt(teamSize, 1, MAX_SESSION_SIZE);
  if (!teamsOk) problems.push(`teams must be an integer 1-${MAX_SESSION_SIZE}, got ${JSON.stringify(teams)}`);
  if (teamSize === undefined) problems.push("teamSize is required");
  else if (!teamSizeOk) problems.push(`teamSize must be an integer 1-${MAX_SESSION_SIZE}, got ${JSON.stringify(teamSize)}`);
  if (teamsOk && teamSizeOk && teams * teamSize > MAX_SESSION_SIZE)
    problems.push(`teams x teamSize = ${teams * teamSize} players per session; at most ${MAX_SESSION_SIZE}`);
  if (!isInt(maxPartySize, 1, MAX_SESSION_SIZE)) problems.push(`maxPartySize must be an integer 1-${MAX_SESSION_SIZE}, got ${JSON.stringify(maxPartySize)}`);
  else if (teamSizeOk && maxPartySize > teamSize)
    problems.push(`maxPartySize ${maxPartySize} is above teamSize ${teamSize}: a party is never split over teams`);
  if (skill !== undefined) problems.push(...checkWidened("skill", "window", MAX_SKILL_WINDOW, skill));
  if (latency !== undefined) problems.push(...checkWidened("latency", "max", LATENCY_MAX_MS, latency));
  return problems;
}

/**
 * A rule relaxed in widen steps (`skill` by `window`, `latency` by `max`): `{<field>, widen?: [{afterSeconds,
 * <field>}]}` with the field a number 0-`top`, steps in ascending afterSeconds that never narrow.
 */
function checkWidened(name: string, field: string, top: number, rule: unknown): string[] {
  const shape = `{${field}, widen?}`;
  if (!isObject(rule)) return [`${name} must be an object ${shape}, got ${JSON.stringify(rule)}`];
  const fields = [field, "widen"];
  const stepFields = ["afterSeconds", field];
  const problems = unknownFields(rule, fields).map((k) => `unknown field ${name}.${k} (known: ${fields.join(", ")})`);
  const valueOk = isNumber(rule[field], 0, top);
  if (rule[field] === undefined) problems.push(`${name}.${field} is required`);
  else if (!valueOk) problems.push(`${name}.${field} must be a number 0-${top}, got ${JSON.stringify(rule[field])}`);
  if (rule.widen === undefined) return problems;
  if (!Array.isArray(rule.widen)) return [...problems, `${name}.widen must be an array of {afterSeconds, ${field}}, got ${JSON.stringify(rule.widen)}`];
  if (rule.widen.length > MAX_WIDEN_STEPS) problems.push(`${name}.widen has ${rule.widen.length} steps; at most ${MAX_WIDEN_STEPS}`);
  let previous = { afterSeconds: 0, value: valueOk ? (rule[field] as number) : -Infinity };
  rule.widen.forEach((step: unknown, i) => {
    const at = `${name}.widen[${i}]`;
    if (!isObject(step)) return void problems.push(`${at} must be an object {afterSeconds, ${field}}, got ${JSON.stringify(step)}`);
    problems.push(...unknownFields(step, stepFields).map((k) => `unknown field ${at}.${k} (known: ${stepFields.join(", ")})`));
    const afterSeconds = step.afterSeconds;
    const value = step[field];
    const afterOk = isNumber(afterSeconds, 0, MAX_WIDEN_AFTER_SECONDS) && afterSeconds > 0;
    const stepValueOk = isNumber(value, 0, top);
    if (!afterOk) problems.push(`${at}.afterSeconds must be a number above 0 and at most ${MAX_WIDEN_AFTER_SECONDS}, got ${JSON.stringify(afterSeconds)}`);
    else if (afterSeconds <= previous.afterSeconds)
      problems.push(`${at}.afterSeconds ${afterSeconds} must be above the previous step's ${previous.afterSeconds} (steps in ascending order)`);
    if (!stepValueOk) problems.push(`${at}.${field} must be a number 0-${top}, got ${JSON.stringify(value)}`);
    else if (value < previous.value)
      problems.push(`${at}.${field} ${value} narrows the ${field} in force before it (${previous.value}): widen steps may only widen`);
    previous = { afterSeconds: afterOk ? afterSeconds : previous.afterSeconds, value: stepValueOk ? value : previous.value };
  });
  return problems;
}

/** Players per session of every mode (what the stats report and FIFO callers know a mode by). */
export function modeSizes(modes: Readonly<Record<string, ModeRules>>): Record<string, number> {
  return Object.fromEntries(Object.entries(modes).map(([name, rules]) => [name, rules.size]));
}
