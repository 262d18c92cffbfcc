/**
 * Loads the Lua scripts of src/store/lua (one file per atomic operation), expands their
 * `--- @include "name"` lines with src/store/lua/includes/<name>.lua (each include at most once per
 * script, nested includes first), sets SCRIPT_NAME (the file name, used in input errors) at the top, and
 * computes the SHA1 that EVALSHA needs. The script names are the file names; each must have a reply
 * decoder in replies.ts (checked when the scripts are loaded).
 *
 * The directory is resolved from __dirname, so it works from the TypeScript sources (tests) and from
 * dist/ (scripts/copyAssets.js copies src/store/lua to dist/src/store/lua).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SCRIPT_REPLIES, type ScriptName } from "./replies";

export type { ScriptName } from "./replies";

export const LUA_DIR = join(__dirname, "lua");

/** The script names: the .lua files of LUA_DIR (each file is one atomic operation). */
export function scriptFileNames(dir = LUA_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".lua"))
    .map((f) => f.slice(0, -".lua".length))
    .sort();
}

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
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`Lua script names are identifiers: ${JSON.stringify(name)}`);
  const source = readFileSync(join(dir, `${name}.lua`), "utf8");
  const expanded = expandIncludes(source, (inc) => readFileSync(join(dir, "includes", `${inc}.lua`), "utf8"));
  const body = `local SCRIPT_NAME = '${name}'\n${expanded}`;
  return { name, body, sha: createHash("sha1").update(body).digest("hex") };
}

let cache: Record<ScriptName, LuaScript> | undefined;

/** All scripts, read once per process. */
export function loadScripts(): Record<ScriptName, LuaScript> {
  if (!cache) {
    const files = scriptFileNames();
    const decoded = Object.keys(SCRIPT_REPLIES).sort();
    if (files.join() !== decoded.join()) {
      throw new Error(`Lua scripts and reply decoders differ: files [${files.join(", ")}], decoders in replies.ts [${decoded.join(", ")}]`);
    }
    const all = {} as Record<ScriptName, LuaScript>;
    for (const name of decoded as ScriptName[]) all[name] = loadScript(name);
    cache = all;
  }
  return cache;
}
