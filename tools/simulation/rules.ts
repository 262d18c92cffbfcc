/**
 * The rule-set lab's checks and report: from what the players were told (their match outputs) and what the
 * simulator knows (every player's skill and party), whether every match kept its rules — teams exact,
 * parties whole on one team, skill spread within the window in force for the match's wait — and how wait
 * traded against quality.
 */
import { percentile } from "../../src/lib/percentile";
import { skillWindowAt, type ModeRules } from "../../src/domain/modeRules";
import { lineChart, type LineSeries } from "../svgChart";
import type { PlayerResult, RulesReport } from "./types";

/** Rounding slack of reported figures (the store computes in Lua doubles). */
const EPSILON = 1e-6;

interface Match {
  sessionId: string;
  players: PlayerResult[];
}

function matches(results: PlayerResult[]): Match[] {
  const by = new Map<string, PlayerResult[]>();
  for (const r of results) if (r.status === "matched" && r.sessionId) by.set(r.sessionId, [...(by.get(r.sessionId) ?? []), r]);
  return [...by].map(([sessionId, players]) => ({ sessionId, players }));
}

const spreadOf = (skills: number[]): number => (skills.length ? Math.max(...skills) - Math.min(...skills) : 0);

/** The team skill totals of a match, from the players' known skills; undefined without teams. */
function teamTotals(m: Match, skillOf: Map<string, number>): number[] | undefined {
  const teams = m.players.find((p) => p.teams)?.teams;
  return teams?.map((t) => t.players.reduce((n, id) => n + (skillOf.get(id) ?? 0), 0));
}

export function rulesProblems(results: PlayerResult[], rule: ModeRules): string[] {
  const problems: string[] = [];
  const byId = new Map(results.map((r) => [r.playerId, r]));
  for (const m of matches(results)) {
    const roster = new Set((m.players[0]?.players ?? []).map((p) => p.playerId));
    const teams = m.players[0]?.teams;
    if (rule.teams > 1 || teams) {
      if (!teams) problems.push(`session ${m.sessionId} has no teams (mode has ${rule.teams})`);
      else {
        if (teams.length !== rule.teams) problems.push(`session ${m.sessionId} has ${teams.length} teams, the mode ${rule.teams}`);
        for (const [i, t] of teams.entries())
          if (t.players.length !== rule.teamSize)
            problems.push(`session ${m.sessionId} team ${i} has ${t.players.length} players, teamSize is ${rule.teamSize}`);
        const inTeams = teams.flatMap((t) => t.players);
        if (inTeams.length !== roster.size || inTeams.some((id) => !roster.has(id))) problems.push(`session ${m.sessionId}: its teams are not its roster`);
        for (const p of m.players) {
          if (p.team === undefined || !teams[p.team]?.players.includes(p.playerId)) problems.push(`${p.playerId} was told team ${p.team}, not its team`);
        }
      }
    }
    for (const p of m.players) {
      for (const id of p.party ?? []) {
        const mate = byId.get(id);
        if (mate?.sessionId !== m.sessionId) problems.push(`party of ${p.party![0]} split: ${id} is not in session ${m.sessionId}`);
        else if (p.team !== mate.team) problems.push(`party of ${p.party![0]} split over teams in session ${m.sessionId}`);
      }
    }
    const quality = m.players[0]?.quality;
    const skills = [...roster].map((id) => byId.get(id)?.skill).filter((s): s is number => s !== undefined);
    if (rule.skill) {
      if (!quality) problems.push(`session ${m.sessionId} reports no quality`);
      else {
        const window = skillWindowAt(rule.skill, quality.waitSeconds);
        const spread = spreadOf(skills);
        if (spread > window + EPSILON)
          problems.push(`session ${m.sessionId}: skill spread ${spread} above the window ${window} in force at ${quality.waitSeconds} s`);
        if (Math.abs(spread - quality.skillSpread) > EPSILON)
          problems.push(`session ${m.sessionId} reports spread ${quality.skillSpread}, its players' skills give ${spread}`);
      }
    }
  }
  // A party shares one outcome: all matched (together, checked above) or all ended.
  for (const r of results) {
    const lead = r.party?.[0];
    if (lead && lead !== r.playerId && byId.get(lead)?.status !== r.status)
      problems.push(`party of ${lead}: ${r.playerId} ended ${r.status}, its leader ${byId.get(lead)?.status}`);
  }
  return problems;
}

export function rulesReport(results: PlayerResult[], mode: string, rule: ModeRules): RulesReport {
  const skillOf = new Map(results.filter((r) => r.skill !== undefined).map((r) => [r.playerId, r.skill!]));
  const list = matches(results).map((m) => {
    const skills = (m.players[0]?.players ?? []).map((p) => skillOf.get(p.playerId) ?? 0);
    const totals = teamTotals(m, skillOf);
    const waitSeconds = m.players[0]?.quality?.waitSeconds ?? Number.NaN;
    return {
      spread: spreadOf(skills),
      teamGap: totals ? spreadOf(totals) : 0,
      waitSeconds,
      window: rule.skill ? skillWindowAt(rule.skill, Number.isFinite(waitSeconds) ? waitSeconds : 0) : Number.NaN,
    };
  });
  const pp = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95) });
  const waits = results.filter((r) => r.timeToMatchMs !== undefined).map((r) => r.timeToMatchMs! / 1000);
  return {
    mode,
    players: results.length,
    matchedShare: results.filter((r) => r.status === "matched").length / Math.max(1, results.length),
    waitSeconds: pp(waits),
    skillSpread: pp(list.map((x) => x.spread)),
    teamGap: pp(list.map((x) => x.teamGap)),
    matchWaitSeconds: pp(list.map((x) => x.waitSeconds)),
    matches: list,
  };
}

/** Quality against wait: each match's skill spread and team gap by its wait, and the window in force. */
export function qualityChart(report: RulesReport, rule: ModeRules, title: string): string {
  const maxWait = Math.max(1, ...report.matches.map((m) => m.waitSeconds).filter(Number.isFinite));
  const byWait = [...report.matches].sort((a, b) => a.waitSeconds - b.waitSeconds);
  const series: LineSeries[] = [
    { name: "skill spread of a match", points: byWait.map((m) => [m.waitSeconds, m.spread]), style: "points" },
    { name: "team skill gap of a match", points: byWait.map((m) => [m.waitSeconds, m.teamGap]), style: "points" },
  ];
  if (rule.skill) {
    // The window as a step function of the wait: flat, then up at each widen step.
    const steps: [number, number][] = [[0, rule.skill.window]];
    for (const w of rule.skill.widen) if (w.afterSeconds <= maxWait) steps.push([w.afterSeconds, steps[steps.length - 1]![1]], [w.afterSeconds, w.window]);
    steps.push([maxWait, skillWindowAt(rule.skill, maxWait)]);
    series.push({ name: "skill window in force", points: steps });
  }
  return lineChart({ title, xLabel: "wait of the match's longest-waiting ticket (s)", yLabel: "skill", series, xMin: 0, yMin: 0 });
}
