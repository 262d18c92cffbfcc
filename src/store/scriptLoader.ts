/**
 * Loads the Lua scripts of src/store/lua (one file per atomic operation), expands their
 * `--- @include "name"` lines with src/store/lua/includes/<name>.lua (each include at most once per
 * script, nested includes first), and computes the SHA1 that EVALSHA needs.
 *
 * The directory is resolved from __dirname, so it works from the TypeScript sources (tests) and from
 * dist/ (scripts/copyAssets.js copies src/store/lua to dist/src/store/lua).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const LUA_DIR = join(__dirname, "lua");

export const SCRIPT_NAMES = [
  "enqueuePlayers",
  "leaveQueue",
  "assignSessions",
  "claimUnannounced",
  "confirmAnnounced",
  "registerServer",
  "releaseServer",
  "deregisterServer",
  "expireServers",
  "expireStale",
  "readPlayer",
  "readServer",
  "readStats",
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

export interface LuaScript {
  name: string;
  body: string;
  sha: string;
}

const INCLUDE_LINE = /^--- @include "([A-Za-z0-9_-]+)"\s*$/;

/** Expands include lines recursively; `seen` keeps every include to one copy (Lua locals would clash). */
export function expandIncludes(source: string, readInclude: (name: string) => string, seen = new Set<string>(), stack: string[] = []): string {
  return source
    .split("\n")
    .map((line) => {
      const m = INCLUDE_LINE.exec(line);
      if (!m) return line;
      const name = m[1]!;
      if (stack.includes(name)) throw new Error(`Lua include cycle: ${[...stack, name].join(" -> ")}`);
      if (seen.has(name)) return `-- (${name} already included)`;
      seen.add(name);
      const body = expandIncludes(readInclude(name), readInclude, seen, [...stack, name]);
      return `-- >>> include ${name}\n${body}\n-- <<< include ${name}`;
    })
    .join("\n");
}

export function loadScript(name: string, dir = LUA_DIR): LuaScript {
  const source = readFileSync(join(dir, `${name}.lua`), "utf8");
  const body = expandIncludes(source, (inc) => readFileSync(join(dir, "includes", `${inc}.lua`), "utf8"));
  return { name, body, sha: createHash("sha1").update(body).digest("hex") };
}

let cache: Record<ScriptName, LuaScript> | undefined;

/** All scripts, read once per process. */
export function loadScripts(): Record<ScriptName, LuaScript> {
  if (!cache) {
    const all = {} as Record<ScriptName, LuaScript>;
    for (const name of SCRIPT_NAMES) all[name] = loadScript(name);
    cache = all;
  }
  return cache;
}
