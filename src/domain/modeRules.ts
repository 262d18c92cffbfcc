/**
 * Mode rules (DESIGN.md section 6, "Mode rules"): what a session of a mode must be before it may fill.
 * Pure types and arithmetic, no Azure, no Redis. The store's Lua scripts apply the same rules atomically;
 * the settings parser (src/config) turns `MATCH_MODES` into these; this file is the one meaning of them.
 */

/** A rule relaxed in steps by the wait of a session's longest-waiting ticket (FlexMatch "expansions"). */
export interface SkillRule {
  /** Largest `max(skill) - min(skill)` over a session's players before any widen step applies. */
  window: number;
  /** Ascending `afterSeconds`; the last step whose `afterSeconds` the longest wait has passed is in force. */
  widen: { afterSeconds: number; window: number }[];
}

export interface LatencyRule {
  /** Largest reported latency (ms) to the session's region before any widen step applies. */
  max: number;
  widen: { afterSeconds: number; max: number }[];
}

/** The skill values a ticket may carry (a finite number in this range), and the widest window a rule may name. */
export const SKILL_MIN = -1_000_000;
export const SKILL_MAX = 1_000_000;
export const MAX_SKILL_WINDOW = SKILL_MAX - SKILL_MIN;

/** One mode's rules, normalized: every field present (defaults filled in). */
export interface ModeRules {
  /** Players per session: teams × teamSize. */
  size: number;
  /** Teams per session (1 = no teams: a free-for-all or a co-op group). */
  teams: number;
  teamSize: number;
  /** Largest party (1 = solo tickets only). Never above teamSize: a party is never split. */
  maxPartySize: number;
  /** Present when the mode matches by skill: then every ticket must carry `skill`. */
  skill?: SkillRule;
  latency?: LatencyRule;
}

/**
 * A mode as `MATCH_MODES` spells it: a number keeps the old meaning (FIFO sessions of that size, solo
 * tickets), an object is the rule set of DESIGN.md section 6.
 */
export type ModeSpec =
  | number
  | {
      teams?: number;
      teamSize: number;
      maxPartySize?: number;
      skill?: Omit<SkillRule, "widen"> & Partial<Pick<SkillRule, "widen">>;
      latency?: Omit<LatencyRule, "widen"> & Partial<Pick<LatencyRule, "widen">>;
    };

/** The normalized rules of a spec the settings parser already checked (the number form: FIFO, no teams, solo). */
export function normalizeMode(spec: ModeSpec): ModeRules {
  if (typeof spec === "number") return { size: spec, teams: 1, teamSize: spec, maxPartySize: 1 };
  const teams = spec.teams ?? 1;
  return {
    size: teams * spec.teamSize,
    teams,
    teamSize: spec.teamSize,
    maxPartySize: spec.maxPartySize ?? 1,
    // `widen` may be left out of a rule set: no steps.
    ...(spec.skill ? { skill: { window: spec.skill.window, widen: [...(spec.skill.widen ?? [])] } } : {}),
    ...(spec.latency ? { latency: { max: spec.latency.max, widen: [...(spec.latency.widen ?? [])] } } : {}),
  };
}

export function normalizeModes(specs: Readonly<Record<string, ModeSpec | ModeRules>>): Record<string, ModeRules> {
  const out: Record<string, ModeRules> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = isNormalized(spec) ? spec : normalizeMode(spec);
  return out;
}

function isNormalized(spec: ModeSpec | ModeRules): spec is ModeRules {
  return typeof spec === "object" && "size" in spec && "teams" in spec && "maxPartySize" in spec;
}

/** The skill window in force for a session whose longest-waiting ticket has waited `waitSeconds`. */
export function skillWindowAt(rule: SkillRule, waitSeconds: number): number {
  let w = rule.window;
  for (const step of rule.widen) if (waitSeconds >= step.afterSeconds) w = step.window;
  return w;
}

/** The latency max in force for a group whose longest-waiting ticket has waited `waitSeconds` (as skillWindowAt). */
export function latencyMaxAt(rule: LatencyRule, waitSeconds: number): number {
  let m = rule.max;
  for (const step of rule.widen) if (waitSeconds >= step.afterSeconds) m = step.max;
  return m;
}

/** A team of a match, in team order: its players' ids. */
export interface Team {
  players: string[];
}

/** How good a match is (ticket status, `matchRequest` output, match-made message, stats). */
export interface MatchQuality {
  /** max(skill) - min(skill) over the session's players (0 without skill). */
  skillSpread: number;
  /** Largest minus smallest team skill total (0 with one team or without skill). */
  teamSkillGap: number;
  /** Wait of the session's longest-waiting ticket when the session filled, in seconds. */
  waitSeconds: number;
}
