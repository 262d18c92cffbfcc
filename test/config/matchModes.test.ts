/**
 * MATCH_MODES: the published JSON Schema (src/schemas/match-modes.schema.json) and the settings parser
 * (src/config/matchModes.ts) are two independent statements of the same rules; they must give the same
 * verdict on every example here. The few rules a JSON Schema cannot express are checked by the parser alone
 * and listed in the schema's description (the last group below). A bad rule set stops the app at start with
 * every problem listed.
 */
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import schema from "../../src/schemas/match-modes.schema.json";
import { parseMatchModes } from "../../src/config/matchModes";
import { ConfigError, loadSettings } from "../../src/config/settings";
import { latencyMaxAt, skillWindowAt } from "../../src/domain/modeRules";

const KEYS = { TICKET_SIGNING_KEYS: JSON.stringify([{ kid: "k1", key: "k".repeat(40) }]) };
const validate = new Ajv2020({ allErrors: true }).compile(schema);

const ranked = {
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
};

const good: [string, unknown][] = [
  ["the number form", { duel: 2, squad: 4 }],
  ["DESIGN.md's ranked 5v5 (without latency)", { ranked }],
  ["teams default to 1, parties to solo", { coop: { teamSize: 4 } }],
  ["skill without widen steps", { duel: { teams: 2, teamSize: 1, skill: { window: 100 } } }],
  ["a window of 0 (equal skill only)", { mirror: { teams: 2, teamSize: 1, skill: { window: 0, widen: [{ afterSeconds: 5, window: 50 }] } } }],
  ["numbers and rule sets side by side", { duel: 2, ranked }],
  ["'constructor' is an ordinary mode name", { constructor: 3 }],
  ["100 players, the largest session", { br: { teams: 25, teamSize: 4, maxPartySize: 4 } }],
  ["a latency rule widening with wait (issue 14)", { geo: { teamSize: 4, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } } }],
  ["a latency rule without widen steps", { geo: { teamSize: 2, latency: { max: 60 } } }],
  ["DESIGN.md's ranked 5v5 with parties, skill AND latency", { ranked: { ...ranked, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } } }],
];

const bad: [string, unknown][] = [
  ["not an object", [2]],
  ["no modes", {}],
  ["a session size of 0", { duel: 0 }],
  ["a fractional size", { duel: 2.5 }],
  ["a size above 100", { huge: 101 }],
  ["a string size", { duel: "2" }],
  ["a bad mode name", { Duel: 2 }],
  ["__proto__ as a mode name", JSON.parse('{"__proto__":2}') as unknown],
  ["teamSize missing", { ranked: { teams: 2 } }],
  ["teams 0", { ranked: { teams: 0, teamSize: 5 } }],
  ["an unknown field (typo)", { ranked: { teams: 2, teamsize: 5 } }],
  ["maxPartySize 0", { ranked: { teamSize: 5, maxPartySize: 0 } }],
  ["skill without window", { ranked: { teamSize: 5, skill: { widen: [] } } }],
  ["a negative window", { ranked: { teamSize: 5, skill: { window: -1 } } }],
  ["widen not an array", { ranked: { teamSize: 5, skill: { window: 1, widen: { afterSeconds: 5, window: 2 } } } }],
  ["a widen step at 0 s", { ranked: { teamSize: 5, skill: { window: 1, widen: [{ afterSeconds: 0, window: 2 }] } } }],
  ["a widen step without window", { ranked: { teamSize: 5, skill: { window: 1, widen: [{ afterSeconds: 5 }] } } }],
  ["an unknown field in skill", { ranked: { teamSize: 5, skill: { window: 1, expand: [] } } }],
  ["latency without max", { geo: { teamSize: 4, latency: { widen: [] } } }],
  ["a negative latency max", { geo: { teamSize: 4, latency: { max: -1 } } }],
  ["a latency max above 10 s", { geo: { teamSize: 4, latency: { max: 10_001 } } }],
  ["a latency step without max", { geo: { teamSize: 4, latency: { max: 50, widen: [{ afterSeconds: 5 }] } } }],
  ["an unknown field in latency", { geo: { teamSize: 4, latency: { max: 50, window: 9 } } }],
  ["a rule set as a string", { ranked: "5v5" }],
];

/** Valid JSON Schema, refused by the parser: the rules between fields, stated in the schema's description. */
const badBeyondSchema: [string, unknown, RegExp][] = [
  ["maxPartySize above teamSize", { ranked: { teams: 2, teamSize: 5, maxPartySize: 6 } }, /maxPartySize 6 is above teamSize 5/],
  ["more than 100 players per session", { ranked: { teams: 11, teamSize: 10 } }, /teams x teamSize = 110/],
  [
    "widen steps out of order",
    {
      ranked: {
        teamSize: 5,
        skill: {
          window: 1,
          widen: [
            { afterSeconds: 30, window: 5 },
            { afterSeconds: 15, window: 9 },
          ],
        },
      },
    },
    /afterSeconds 15 must be above the previous step's 30/,
  ],
  ["a step that narrows", { ranked: { teamSize: 5, skill: { window: 300, widen: [{ afterSeconds: 10, window: 200 }] } } }, /narrows the window/],
  ["a latency step that narrows", { geo: { teamSize: 4, latency: { max: 80, widen: [{ afterSeconds: 10, max: 50 }] } } }, /narrows the max/],
];

describe("MATCH_MODES: schema and parser agree", () => {
  it.each(good)("both accept %s", (_name, value) => {
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(parseMatchModes(value).problems).toEqual([]);
  });

  it.each(bad)("both refuse %s", (_name, value) => {
    expect(validate(value)).toBe(false);
    expect(parseMatchModes(value).problems.length).toBeGreaterThan(0);
  });

  it.each(badBeyondSchema)("the parser alone refuses %s (a cross-field rule the schema's description states)", (_name, value, problem) => {
    expect(validate(value)).toBe(true);
    expect(parseMatchModes(value).problems.join("\n")).toMatch(problem);
    const stated = /maxPartySize/.test(problem.source)
      ? "maxPartySize is at most teamSize"
      : /x teamSize/.test(problem.source)
        ? "teams x teamSize"
        : "widen steps";
    expect(schema.description).toContain(stated);
  });
});

describe("MATCH_MODES normalized", () => {
  it("a number stays a FIFO session of that size; a rule set gets its defaults", () => {
    const { modes } = parseMatchModes({ duel: 2, ranked, coop: { teamSize: 3, skill: { window: 50 } } });
    expect(modes.duel).toEqual({ size: 2, teams: 1, teamSize: 2, maxPartySize: 1 });
    expect(modes.ranked).toEqual({ size: 10, teams: 2, teamSize: 5, maxPartySize: 5, skill: ranked.skill });
    expect(modes.coop).toEqual({ size: 3, teams: 1, teamSize: 3, maxPartySize: 1, skill: { window: 50, widen: [] } });
    expect(skillWindowAt(modes.coop!.skill!, 1000)).toBe(50);
    expect(skillWindowAt(modes.ranked!.skill!, 29.9)).toBe(400);
  });

  it("a latency rule is normalized with its steps, and latencyMaxAt is the step in force", () => {
    const { modes, problems } = parseMatchModes({
      geo: { teamSize: 4, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } },
      near: { teamSize: 2, latency: { max: 40 } },
    });
    expect(problems).toEqual([]);
    expect(modes.geo).toEqual({ size: 4, teams: 1, teamSize: 4, maxPartySize: 1, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } });
    expect(modes.near!.latency).toEqual({ max: 40, widen: [] });
    expect(latencyMaxAt(modes.geo!.latency!, 19.9)).toBe(80);
    expect(latencyMaxAt(modes.geo!.latency!, 20)).toBe(150);
  });

  it("latency combines with teams, parties and skill (issue 14): the rule set keeps all of them", () => {
    const latency = { max: 80, widen: [{ afterSeconds: 20, max: 150 }] };
    const { modes, problems } = parseMatchModes({ ranked: { ...ranked, latency } });
    expect(problems).toEqual([]);
    expect(modes.ranked).toEqual({ size: 10, teams: 2, teamSize: 5, maxPartySize: 5, skill: ranked.skill, latency });
  });

  it("a bad rule set stops the settings with EVERY problem listed, each naming its mode and field", () => {
    const env = {
      MATCH_MODES: JSON.stringify({
        duel: 0,
        ranked: { teams: 2, teamSize: 5, maxPartySize: 6, skill: { window: -5, widen: [{ afterSeconds: 0, window: 10 }] } },
        geo: { teamSize: 2, latency: { max: -1, widen: [] } },
      }),
      DEFAULT_MODE: "ranked",
      ...KEYS,
    };
    let error: unknown;
    try {
      loadSettings(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      "MATCH_MODES mode duel: session size must be an integer 1-100, got 0",
      "MATCH_MODES mode ranked: maxPartySize 6 is above teamSize 5: a party is never split over teams",
      "MATCH_MODES mode ranked: skill.window must be a number 0-2000000, got -5",
      "MATCH_MODES mode ranked: skill.widen[0].afterSeconds must be a number above 0 and at most 3600, got 0",
      "MATCH_MODES mode geo: latency.max must be a number 0-10000, got -1",
    ]);
  });

  it("settings carry the normalized rules; the default mode is the first one named", () => {
    const s = loadSettings({ MATCH_MODES: JSON.stringify({ ranked, duel: 2 }), ...KEYS });
    expect(s.defaultMode).toBe("ranked");
    expect(s.modes.ranked).toMatchObject({ size: 10, teams: 2, maxPartySize: 5 });
    expect(s.modes.duel).toMatchObject({ size: 2, teams: 1, maxPartySize: 1 });
    expect(Object.hasOwn(s.modes, "toString")).toBe(false);
  });
});
