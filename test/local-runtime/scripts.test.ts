/** The local runtime's Lua scripts: one file per operation with its header, every reply checked. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LOCAL_LUA_DIR, LOCAL_SCRIPT_REPLIES, localScripts, runLocalScript } from "../../local-runtime/scripts";
import { scriptFileNames } from "../../src/store/scriptLoader";
import { validateSchedule } from "../../local-runtime/host/timers";

let redis: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = createClient({ url: inject("redisUrl") });
  await redis.connect();
});
afterAll(async () => {
  await redis?.close();
});

describe("local-runtime/lua", () => {
  it("has one decoder per script file, and every file names KEYS, ARGV and its Reply", () => {
    expect(scriptFileNames(LOCAL_LUA_DIR)).toEqual(Object.keys(LOCAL_SCRIPT_REPLIES).sort());
    for (const name of Object.keys(localScripts())) {
      const header = readFileSync(join(LOCAL_LUA_DIR, `${name}.lua`), "utf8");
      expect(header, name).toMatch(new RegExp(`^-- ${name}: `));
      expect(header, name).toMatch(/^-- KEYS\[1\]/m);
      expect(header, name).toMatch(/^-- (ARGV|Reply)/m);
      expect(header, name).toMatch(/^-- Reply {5}/m);
    }
  });

  it("decodes replies and refuses bad input before any write", async () => {
    const send = (args: string[]) => redis.sendCommand(args);
    const stream = `scripts-test:${Date.now()}`;
    const ids = await runLocalScript(send, "eventHubsAppend", [stream, `${stream}:seq`], ["a", "", "{}", "1", "b", "k", "{}", "2"]);
    expect(ids).toHaveLength(2);
    await expect(runLocalScript(send, "eventHubsAppend", [stream, `${stream}:seq`], ["c", "", "{}", "not-a-time"])).rejects.toThrow(/BADINPUT/);
    expect(await redis.xLen(stream)).toBe(2); // nothing written by the refused call
    expect(await runLocalScript(send, "durableEnqueueIfActive", [`${stream}:none`, `${stream}:q`], ["{}"])).toBe(0);
  });
});

describe("timer schedules (croner)", () => {
  it("accepts NCRONTAB with seconds and refuses bad ones with a clear message", () => {
    expect(() => validateSchedule("t", "*/2 * * * * *")).not.toThrow();
    expect(() => validateSchedule("t", "*/2 * * * *")).toThrow(/Timer function t: schedule "\*\/2 \* \* \* \*" is not a valid NCRONTAB expression: .*6 fields/);
    expect(() => validateSchedule("t", "99 * * * * *")).toThrow(/not a valid NCRONTAB expression/);
    expect(() => validateSchedule("t", "every minute")).toThrow(/not a valid NCRONTAB expression/);
  });
});
