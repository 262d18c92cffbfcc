/**
 * Property-style: random and hostile field values (prototype names, unicode, control characters, huge
 * numbers, wrong types, missing and oversized bodies, odd content types, broken tokens and hosts) thrown
 * at every HTTP route of the app through the real @azure/functions invocation code. Whatever comes in,
 * the answer is never a 5xx, and every 4xx is `{error, detail}`. Seeded, so a failure is reproducible:
 * the failing case is printed with its seed and index.
 */
import { describe, expect, it } from "vitest";
import { core, SIGNING_KEYS, useTestApp } from "./support/app";
import { signTicketToken } from "../../src/usecases/ticketToken";
import { seededRandom } from "../../tools/seededRandom";

const app = useTestApp();

/** A small seeded PRNG, so every run throws the same cases. */
const prng = seededRandom;

const HOSTILE_STRINGS = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "prototype",
  "",
  " ",
  "a".repeat(65),
  "x".repeat(3000),
  "😀",
  "é",
  "\u0000",
  "\u202e",
  "\ud800",
  "../../etc/passwd",
  "%00",
  "a b",
  "westeurope",
  "duel",
  "squad",
  "westeurope.1",
  "westeurope.99999999999999999999",
  "10.0.0.1:7777",
  "[::1]:80",
  "host:99999",
  "<script>",
  "null",
  "NaN",
  "-1",
];
const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_STRINGS,
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53 + 1,
  3.5,
  true,
  false,
  null,
  [],
  {},
  ["duel"],
  { __proto__: { polluted: 1 } },
  { constructor: 1 },
];
const FIELDS = ["playerId", "mode", "region", "address", "sessionId", "skill", "party", "latencies", "ticketId", "__proto__", "constructor", "extra"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "",
  "application/x-www-form-urlencoded",
  "application/merge-patch+json",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const HOSTS = ["matchmaker.test", "evil.example", "bad host", "a_b.example", "x:0", "[::1", "ex\u00e4mple.com", "h:65536", ""];

/** Lone surrogates become U+FFFD, as any UTF-8 encoder makes them (a URL cannot carry them). */
const wellFormed = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

interface Case {
  fn: string;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string | Buffer;
}

function makeCase(rand: () => number, routes: { fn: string; route: string }[]): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const str = (): string => {
    const v = pick(HOSTILE_VALUES);
    return typeof v === "string" ? v : (JSON.stringify(v) ?? "");
  };
  const { fn, route } = pick(routes);
  const params: Record<string, string> = {};
  const path = `/api/${route.replace(/\{(\w+)\}/g, (_m, name: string) => {
    params[name] = rand() < 0.3 ? `p${Math.floor(rand() * 1e6)}` : str();
    return encodeURIComponent(wellFormed(params[name]!));
  })}`;
  const query: Record<string, string> = {};
  for (let i = Math.floor(rand() * 3); i > 0; i--) query[pick(["token", "region", "code", "debug", "__proto__", "constructor"])] = str();
  const headers: Record<string, string> = {};
  if (rand() < 0.8) headers["content-type"] = pick(CONTENT_TYPES);
  if (rand() < 0.5) {
    const claims = {
      ticketId: "t1",
      playerId: params.playerId ?? "p1",
      region: pick(["westeurope", "mars", "constructor"]),
      mode: pick(["duel", "chess", "__proto__"]),
      rat: Math.floor(rand() * 2e12) + 1,
    };
    const issuedAt = Math.floor(rand() * 2e12);
    headers.authorization = pick([
      "",
      "Bearer",
      "Bearer x.y",
      `Bearer ${str()}`,
      "Basic abc",
      `Bearer ${signTicketToken(claims, SIGNING_KEYS, 7 * 24 * 3600, issuedAt)}`,
      `Bearer ${signTicketToken(claims, [{ kid: "default", key: "another-key-0123456789abcdef0123456789" }], 3600, issuedAt)}`,
    ]);
  }
  if (rand() < 0.2) headers.host = pick(HOSTS);
  // Header bytes arrive as latin1 characters (what a server makes of raw UTF-8 bytes in a header), without
  // the control characters and surrounding blanks an HTTP server refuses or trims before any function runs.
  for (const [k, v] of Object.entries(headers)) {
    headers[k] = Buffer.from(v, "utf8")
      .toString("latin1")
      .split("")
      .filter((ch) => ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f)
      .join("")
      .trim();
  }
  let body: string | Buffer | undefined;
  const shape = rand();
  if (shape < 0.5) {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 5); i > 0; i--) o[pick(FIELDS)] = pick(HOSTILE_VALUES);
    body = JSON.stringify(o);
  } else if (shape < 0.75) body = pick(["", "{", "null", "[]", '"str"', "1", "{}", '{"playerId":"a","playerId":"b"}', "[".repeat(2000), "x".repeat(5000)]);
  else if (shape < 0.85) body = Buffer.from([0xff, 0xfe, 0x7b, 0x7d]);
  return { fn, method: pick(METHODS), path, params, query, headers, ...(body === undefined ? {} : { body }) };
}

describe("hostile input on every HTTP route: never a 5xx, always {error, detail} on a 4xx", () => {
  it("400 seeded random requests (HOSTILE_SEED picks another seed)", async () => {
    const routes = [...core.registrations.values()]
      .filter((r) => /^httpTrigger$/i.test(r.trigger.type))
      .map((r) => ({ fn: r.metadata.name, route: String(r.trigger.route) }));
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const seed = Number(process.env.HOSTILE_SEED ?? 20261201);
    const rand = prng(seed);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const c = makeCase(rand, routes);
      const res = await app.http(c.fn, c);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `seed ${seed} case ${i}: ${c.method} ${c.path} ${JSON.stringify({ params: c.params, query: c.query, headers: c.headers, body: String(c.body).slice(0, 200) })} -> ${res.status} ${res.body.toString().slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400) {
        const body = res.json as { error?: unknown; detail?: unknown } | undefined;
        expect(typeof body?.error === "string" && body.error.length > 0, where).toBe(true);
        expect(typeof body?.detail === "string" && body.detail.length > 0, where).toBe(true);
      }
    }
    // The cases reached past the first checks: several kinds of answers, not only one refusal.
    expect(statuses.size, JSON.stringify([...statuses])).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
