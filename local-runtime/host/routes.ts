/**
 * Route templates as the Functions host (ASP.NET routing) reads them: literal segments, `{param}`,
 * optional `{param?}`, catch-all `{*rest}`, and the common inline constraints (`{id:int}`, `:alpha`,
 * `:guid`, `:bool`, `:long`, `:minlength(n)`, `:maxlength(n)`, `:regex(...)`). Matching is case-insensitive
 * for literals, like the host's.
 */

type Segment = { kind: "literal"; text: string } | { kind: "param"; name: string; optional: boolean; catchAll: boolean; constraints: string[] };

export interface CompiledRoute {
  template: string;
  segments: Segment[];
  /** Higher is more specific; the host prefers literal segments over parameters. */
  precedence: number;
}

export function compileRoute(template: string): CompiledRoute {
  const clean = template.replace(/^\/+|\/+$/g, "");
  const segments: Segment[] = [];
  for (const part of clean === "" ? [] : clean.split("/")) {
    const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)((?::[^}?]+)*)(\?)?\}$/.exec(part);
    if (!m) {
      if (part.includes("{")) throw new Error(`Route template "${template}": unsupported segment "${part}"`);
      segments.push({ kind: "literal", text: part.toLowerCase() });
      continue;
    }
    const constraints = splitConstraints(m[3] ?? "");
    segments.push({ kind: "param", name: m[2]!, optional: Boolean(m[4]), catchAll: Boolean(m[1]), constraints });
  }
  const precedence = segments.reduce(
    (acc, s, i) => acc + (s.kind === "literal" ? 3 : s.kind === "param" && s.constraints.length ? 2 : 1) * 10 ** Math.max(0, 8 - i),
    0,
  );
  return { template, segments, precedence };
}

function splitConstraints(raw: string): string[] {
  // ":int:min(1)" -> ["int", "min(1)"]; parentheses may contain ':' in a regex.
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of raw) {
    if (c === ":" && depth === 0) {
      if (cur) out.push(cur);
      cur = "";
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function satisfies(value: string, constraint: string): boolean {
  const m = /^([a-z]+)(?:\((.*)\))?$/i.exec(constraint);
  if (!m) return true;
  const [, name, arg] = m;
  switch (name!.toLowerCase()) {
    case "int":
      return /^-?\d+$/.test(value) && Math.abs(Number(value)) <= 2 ** 31;
    case "long":
      return /^-?\d+$/.test(value);
    case "alpha":
      return /^[A-Za-z]+$/.test(value);
    case "bool":
      return /^(true|false)$/i.test(value);
    case "guid":
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value);
    case "minlength":
      return value.length >= Number(arg);
    case "maxlength":
      return value.length <= Number(arg);
    case "length":
      return value.length === Number(arg);
    case "min":
      return Number(value) >= Number(arg);
    case "max":
      return Number(value) <= Number(arg);
    case "regex":
      return new RegExp(arg ?? "").test(value);
    default:
      return true;
  }
}

/** A request path (no prefix, no query) split into decoded segments once, for matching against every route. */
export interface PathParts {
  decoded: string[];
  lower: string[];
}

export function pathParts(path: string): PathParts {
  const decoded = path
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .filter((p) => p !== "")
    .map(safeDecode);
  return { decoded, lower: decoded.map((p) => p.toLowerCase()) };
}

/** Matches a path (no prefix, no query; or its parts) against a route; returns the decoded params or undefined. */
export function matchRoute(route: CompiledRoute, path: string | PathParts): Record<string, string> | undefined {
  const { decoded, lower } = typeof path === "string" ? pathParts(path) : path;
  const params: Record<string, string> = {};
  let i = 0;
  for (const seg of route.segments) {
    if (seg.kind === "literal") {
      if (lower[i] !== seg.text) return undefined;
      i++;
      continue;
    }
    if (seg.catchAll) {
      const rest = decoded.slice(i).join("/");
      if (!rest && !seg.optional) return undefined;
      if (rest) params[seg.name] = rest;
      i = decoded.length;
      continue;
    }
    const value = decoded[i];
    if (value === undefined) {
      if (seg.optional) continue;
      return undefined;
    }
    if (!seg.constraints.every((c) => satisfies(value, c))) return undefined;
    params[seg.name] = value;
    i++;
  }
  return i === decoded.length ? params : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
