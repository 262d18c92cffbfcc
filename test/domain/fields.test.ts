/**
 * The field patterns are written once (src/domain/fields.ts); every published JSON Schema must use the
 * same pattern for a field of that name, so the documents cannot drift from what the code accepts.
 */
import { describe, expect, it } from "vitest";
import { FIELD_PATTERNS, type PatternField } from "../../src/domain/fields";
import { validateMode, validateRegion } from "../../src/domain/validation";
import matchMade from "../../src/schemas/match-made.schema.json";
import playerRequest from "../../src/schemas/player-request.schema.json";
import openapi from "../../src/schemas/openapi.json";

type Json = Record<string, unknown>;
const isField = (k: string): k is PatternField => Object.prototype.hasOwnProperty.call(FIELD_PATTERNS, k);

/** Follows local `$ref`s (`#/components/schemas/Id`) to the schema they name. */
function resolve(doc: Json, schema: Json): Json {
  let s = schema;
  for (let i = 0; typeof s.$ref === "string" && i < 10; i++) {
    s = (s.$ref as string)
      .replace(/^#\//, "")
      .split("/")
      .reduce<Json>((node, key) => node[key] as Json, doc);
  }
  return s;
}

/** Every schema of a field named in FIELD_PATTERNS: object properties and path/query parameters. */
function fieldSchemas(doc: Json): { where: string; field: PatternField; schema: Json }[] {
  const found: { where: string; field: PatternField; schema: Json }[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (!node || typeof node !== "object") return;
    const o = node as Json;
    if (o.properties && typeof o.properties === "object") {
      for (const [k, v] of Object.entries(o.properties as Json))
        if (isField(k)) found.push({ where: `${where}.${k}`, field: k, schema: resolve(doc, v as Json) });
    }
    if ((o.in === "path" || o.in === "query") && typeof o.name === "string" && isField(o.name) && o.schema) {
      found.push({ where: `${where}(${o.in} ${o.name})`, field: o.name, schema: resolve(doc, o.schema as Json) });
    }
    for (const [k, v] of Object.entries(o)) walk(v, `${where}/${k}`);
  };
  walk(doc, "");
  return found;
}

describe("field patterns", () => {
  const documents: [string, Json][] = [
    ["match-made.schema.json", matchMade as Json],
    ["player-request.schema.json", playerRequest as Json],
    ["openapi.json", openapi as unknown as Json],
  ];

  it.each(documents)("%s uses the domain's pattern for every field it names", (_name, doc) => {
    const fields = fieldSchemas(doc);
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect({ where: f.where, pattern: f.schema.pattern }).toEqual({ where: f.where, pattern: FIELD_PATTERNS[f.field].source });
  });

  it("every field of the table appears in some published schema", () => {
    const named = new Set(documents.flatMap(([, doc]) => fieldSchemas(doc).map((f) => f.field)));
    expect([...named].sort()).toEqual(Object.keys(FIELD_PATTERNS).sort());
  });

  it("session ids as the store makes them (<region>.<sequence>) match, other shapes do not", () => {
    expect(FIELD_PATTERNS.sessionId.test("westeurope.42")).toBe(true);
    expect(FIELD_PATTERNS.sessionId.test("West.1")).toBe(false);
    expect(FIELD_PATTERNS.sessionId.test("westeurope")).toBe(false);
    expect(FIELD_PATTERNS.sessionId.test("westeurope.4.2")).toBe(false);
  });

  it("configured names are own properties only: prototype names are unknown modes and regions", () => {
    const modes = { duel: 2, squad: 4 };
    for (const name of ["constructor", "__proto__", "tostring", "hasownproperty", "valueof", "isprototypeof"]) {
      const m = validateMode(name, modes);
      expect(m.ok, name).toBe(false);
    }
    expect(validateMode("constructor", modes)).toMatchObject({ ok: false, error: { error: "unknown_mode" } });
    expect(validateMode("duel", modes)).toEqual({ ok: true, value: "duel" });
    expect(validateRegion("constructor", ["westeurope"])).toMatchObject({ ok: false, error: { error: "unknown_region" } });
  });
});
