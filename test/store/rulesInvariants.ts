/**
 * The consistency rules of match rules (skill windows, parties, teams), checked by reading Redis directly:
 * the complement of checkInvariants (test/support/storeHarness.ts) for rules modes.
 */
import { normalizeModes, skillWindowAt, type ModeRules, type ModeSpec } from "../../src/domain/modeRules";
import { SKILL_BAND_WIDTH } from "../../src/store/types";
import type { RawRegion } from "../support/storeHarness";

/** Modes of the rules tests: the FIFO ones of MODES, plus rules modes. */
export const RULES_MODES: Record<string, ModeSpec> = {
  duel: 2,
  squad: 4,
  solo: 1,
  // 5v5 ranked with parties up to 5 and a widening skill window.
  ranked: {
    teams: 2,
    teamSize: 5,
    maxPartySize: 5,
    skill: {
      window: 200,
      widen: [
        { afterSeconds: 15, window: 400 },
        { afterSeconds: 30, window: 1000 },
      ],
    },
  },
  // A skill duel of solo players.
  duo: { teamSize: 2, skill: { window: 100, widen: [{ afterSeconds: 15, window: 400 }] } },
  // 3v3 with parties, no skill (team packing without skill).
  trio: { teams: 2, teamSize: 3, maxPartySize: 3 },
};
export const RULES = normalizeModes(RULES_MODES);
/** mode -> session size, as checkInvariants takes it. */
export const RULES_SIZES: Record<string, number> = Object.fromEntries(Object.entries(RULES).map(([m, r]) => [m, r.size]));

interface Unit {
  p: string[];
  s?: number[];
  at: number;
  t: number;
}

/**
 * `filled`: sessions already seen full (their quality is checked once). Returns the violations.
 * Checks: a rules session's units are exactly its members, every unit's records share its ticketId and
 * list the same party, a ready/assigned session's teams have teamSize players each with every party on
 * one team, its spread is within the window in force for the wait it reports and equals the players'
 * spread, the skill index holds exactly the open skill sessions at their midpoint, and the skill bands
 * count the waiting players of skill modes.
 */
export async function checkRulesInvariants(raw: RawRegion, rules: Record<string, ModeRules>, playerIds: Iterable<string>): Promise<string[]> {
  const bad: string[] = [];
  const seq = Number((await raw.get("SessionSeq")) ?? 0);
  const bySkill = new Map<string, Map<string, number>>();
  const bands = new Map<string, Record<string, number>>();
  for (const [mode, r] of Object.entries(rules))
    if (r.skill) {
      bySkill.set(mode, await raw.zset("SessionsBySkill", mode));
      bands.set(mode, {});
    }
  const records = new Map<string, Record<string, string>>();
  for (const pid of new Set(playerIds)) records.set(pid, await raw.player(pid));
  const skillOpen = new Map<string, Set<string>>();
  for (let i = 1; i <= seq; i++) {
    const sid = `${raw.region}.${i}`;
    const h = await raw.hash("Session", sid);
    if (!h.state || !h.mode) continue;
    const rule = rules[h.mode];
    if (!rule || (!rule.skill && rule.teams === 1 && rule.maxPartySize === 1)) {
      if (h.units) bad.push(`plain session ${sid} has units`);
      continue;
    }
    const members = await raw.sessionMembers(sid);
    if (!h.units) {
      bad.push(`rules session ${sid} has no units`);
      continue;
    }
    const units = JSON.parse(h.units) as Unit[];
    const inUnits = units.flatMap((u) => u.p).sort();
    if (h.state !== "assigned" && JSON.stringify(inUnits) !== JSON.stringify(members)) bad.push(`session ${sid}: units ${inUnits} but members ${members}`);
    const skills: number[] = [];
    for (const u of units) {
      if (u.p.length > rule.maxPartySize) bad.push(`session ${sid}: a unit of ${u.p.length} over maxPartySize`);
      if (rule.skill && (!u.s || u.s.length !== u.p.length)) bad.push(`session ${sid}: unit ${u.p} without skills`);
      if (u.s) skills.push(...u.s);
      const ticket = records.get(u.p[0]!)?.ticketId;
      for (const [j, pid] of u.p.entries()) {
        const rec = records.get(pid);
        if (!rec || h.state === "assigned") continue;
        if (rec.ticketId !== ticket) bad.push(`session ${sid}: party ${u.p} split over tickets`);
        if (u.p.length > 1 && rec.party !== u.p.join(",")) bad.push(`player ${pid}: party ${rec.party} but unit ${u.p}`);
        if (rec.state === "waiting" && rec.session !== sid) bad.push(`player ${pid} of ${sid} records session ${rec.session}`);
        if (rule.skill && rec.state === "waiting" && Number(rec.skill) !== u.s?.[j]) bad.push(`player ${pid}: skill ${rec.skill} but unit says ${u.s?.[j]}`);
        if (rule.skill && rec.state === "waiting") {
          const b = bands.get(h.mode)!;
          const band = String(Math.floor(Number(rec.skill) / SKILL_BAND_WIDTH) * SKILL_BAND_WIDTH);
          b[band] = (b[band] ?? 0) + 1;
        }
      }
    }
    const spread = skills.length ? Math.max(...skills) - Math.min(...skills) : 0;
    if (h.state === "open" && rule.skill) {
      const score = (Math.max(...skills) + Math.min(...skills)) / 2;
      const indexed = bySkill.get(h.mode)!.get(sid);
      if (indexed !== score) bad.push(`open skill session ${sid}: index score ${indexed}, midpoint ${score}`);
      (skillOpen.get(h.mode) ?? skillOpen.set(h.mode, new Set()).get(h.mode)!).add(sid);
    }
    if (h.state === "ready" || h.state === "assigned") {
      if (!h.teams || !h.quality) {
        bad.push(`full session ${sid} without teams/quality`);
        continue;
      }
      const teams = JSON.parse(h.teams) as { players: string[] }[];
      const quality = JSON.parse(h.quality) as { skillSpread: number; teamSkillGap: number; waitSeconds: number };
      if (teams.length !== rule.teams) bad.push(`session ${sid}: ${teams.length} teams`);
      // A backfilled game (`joined`) has its replacements on top of the players it started with.
      const joined = Number(h.joined ?? 0);
      for (const [t, team] of teams.entries())
        if (team.players.length < rule.teamSize || team.players.length > rule.teamSize + joined)
          bad.push(`session ${sid}: team ${t} has ${team.players.length}`);
      for (const u of units) {
        const on = new Set(u.p.map((pid) => teams.findIndex((t) => t.players.includes(pid))));
        if (on.size !== 1 || on.has(-1)) bad.push(`session ${sid}: party ${u.p} on teams ${[...on]}`);
      }
      if (Math.abs(quality.skillSpread - spread) > 1e-9) bad.push(`session ${sid}: quality spread ${quality.skillSpread}, players' spread ${spread}`);
      // A backfill join is judged by the window in force for the request's age (fillBackfills.lua).
      if (rule.skill && !joined) {
        const window = skillWindowAt(rule.skill, quality.waitSeconds);
        if (spread > window) bad.push(`session ${sid} filled with spread ${spread} over the window ${window} in force after ${quality.waitSeconds} s`);
      }
    }
  }
  for (const [mode, index] of bySkill) {
    for (const sid of index.keys()) if (!skillOpen.get(mode)?.has(sid)) bad.push(`SessionsBySkill:${mode} holds ${sid}, not an open session`);
    const counted = Object.fromEntries(Object.entries(await raw.hash("SkillBands", mode)).filter(([, n]) => n !== "0"));
    const expected = Object.fromEntries(Object.entries(bands.get(mode)!).map(([b, n]) => [b, String(n)]));
    if (JSON.stringify(Object.entries(counted).sort()) !== JSON.stringify(Object.entries(expected).sort()))
      bad.push(`SkillBands:${mode} ${JSON.stringify(counted)} but waiting ${JSON.stringify(expected)}`);
  }
  return bad;
}
