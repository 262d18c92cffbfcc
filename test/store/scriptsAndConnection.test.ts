/** Script loading (includes, SHA, one script per operation) and connection construction. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { loadSettings } from "../../src/config/settings";
import { createRedisConnection } from "../../src/store";
import { storeFromSettings } from "../../src/functions/wiring";
import { entraCredentialsProvider } from "../../src/store/connection";
import { expandIncludes, LUA_DIR, loadScript, loadScripts, scriptFileNames } from "../../src/store/scriptLoader";
import { SCRIPT_REPLIES } from "../../src/store/replies";
import { REGION, uniquePrefix } from "../support/storeHarness";

describe("script loader", () => {
  it("has exactly one .lua file per operation, one reply decoder per file, each loadable with its includes expanded", () => {
    const files = readdirSync(LUA_DIR)
      .filter((f) => f.endsWith(".lua"))
      .map((f) => f.replace(/\.lua$/, ""))
      .sort();
    expect(scriptFileNames()).toEqual(files);
    expect(Object.keys(SCRIPT_REPLIES).sort()).toEqual(files);
    expect(Object.keys(loadScripts()).sort()).toEqual(files);
    for (const s of Object.values(loadScripts())) {
      expect(s.body).not.toMatch(/^--- @include/m);
      expect(s.sha).toBe(createHash("sha1").update(s.body).digest("hex"));
      // includes are expanded once: no Lua local is defined twice
      const defs = [...s.body.matchAll(/^local function (\w+)/gm)].map((m) => m[1]);
      expect(new Set(defs).size, s.name).toBe(defs.length);
    }
    expect(loadScript("leaveQueue").body).toContain("local function rules_session_derive");
  });

  it("every script file has a header naming KEYS, ARGV and the reply; every include holds exactly one function", () => {
    for (const name of scriptFileNames()) {
      const source = readFileSync(join(LUA_DIR, `${name}.lua`), "utf8");
      const header = source.split("\n").filter((l) => l.startsWith("--"));
      expect(header[0], name).toMatch(new RegExp(`^-- ${name}: `));
      expect(source, name).toMatch(/^-- KEYS\[1\] /m);
      expect(source, name).toMatch(/^-- ARGV\[1\] /m);
      expect(source, name).toMatch(/^-- ARGV\[2\] /m);
      expect(source, name).toMatch(/^-- Reply /m);
    }
    const includes = readdirSync(join(LUA_DIR, "includes")).filter((f) => f.endsWith(".lua"));
    for (const file of includes) {
      const source = readFileSync(join(LUA_DIR, "includes", file), "utf8");
      const fns = [...source.matchAll(/^local function (\w+)/gm)].map((m) => m[1]);
      // prologue.lua (index_prologue.lua for the server index, latency_prologue.lua for the latency pools) declares the shared locals every function closes over, and no function.
      if (file === "prologue.lua" || file === "index_prologue.lua" || file === "latency_prologue.lua") expect(fns).toEqual([]);
      else expect(fns, file).toEqual([file.replace(/\.lua$/, "")]);
    }
  });

  it("expands nested includes once and refuses cycles", () => {
    const files: Record<string, string> = { a: '--- @include "b"\nA', b: "B", c: '--- @include "d"', d: '--- @include "c"' };
    const readInclude = (n: string): string => {
      const body = files[n];
      if (body === undefined) throw new Error(`no include named ${n}`);
      return body;
    };
    const body = expandIncludes('--- @include "a"\n--- @include "b"\nMAIN', readInclude);
    expect(body.match(/^B$/gm)).toHaveLength(1);
    expect(body.indexOf("B")).toBeLessThan(body.indexOf("A"));
    expect(() => expandIncludes('--- @include "c"', readInclude)).toThrow(/include cycle: c -> d -> c/);
  });

  it("the SHA is the one Redis computes for the body", async () => {
    const redis = await createRedisConnection({ mode: "standalone", url: inject("redisUrl") });
    const s = loadScript("readStats");
    expect(await redis.command("any", ["SCRIPT", "LOAD", s.body])).toBe(s.sha);
    await redis.close();
    expect(readFileSync(join(LUA_DIR, "includes", "prologue.lua"), "utf8")).toContain("hash tag");
  });
});

describe("connections", () => {
  it("storeFromSettings connects as the app settings say", async () => {
    const prefix = uniquePrefix();
    const s = loadSettings({
      REDIS_CONNECTION_STRING: inject("redisUrl"),
      REDIS_KEY_PREFIX: prefix,
      TICKET_SIGNING_KEY: "k".repeat(32),
      MATCH_MODES: '{"duel":2}',
      MATCH_REGIONS: `["${REGION}"]`,
    });
    const store = await storeFromSettings(s);
    const out = await store.enqueue([{ ticketId: "t1", playerId: "p1", mode: "duel", region: REGION, requestedAtMs: Date.now() }]);
    expect(out.results[0]).toMatchObject({ outcome: "queued", sessionId: `${REGION}.1` });
    expect((await store.enqueue([{ ticketId: "t2", playerId: "p2", mode: "duel", region: "eastus", requestedAtMs: Date.now() }])).results[0]).toMatchObject({
      error: "unknown_region",
    });
    await store.redis.close();
  });

  it("Entra ID auth builds a managed-identity streaming credentials provider (system- or user-assigned)", async () => {
    const system = (await entraCredentialsProvider(undefined)) as { type: string };
    const user = (await entraCredentialsProvider("00000000-0000-0000-0000-000000000001")) as { type: string };
    expect(system.type).toBe("streaming-credentials-provider");
    expect(user.type).toBe("streaming-credentials-provider");
  });

  it("refuses incomplete options", async () => {
    await expect(createRedisConnection({ mode: "cluster" })).rejects.toThrow(/rootNodes/);
    await expect(createRedisConnection({ mode: "standalone" })).rejects.toThrow(/url/);
  });
});
