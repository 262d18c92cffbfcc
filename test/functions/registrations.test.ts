/**
 * What the host receives: the metadata of every registration, captured through our
 * @azure/functions-core exactly as @azure/functions hands it to the worker.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { installFunctionsCore, invokeHttp, type FunctionsCore, type Registration } from "../../local-runtime/functionsCore";
import { loadSettings, resetSettingsCache, SETTING_NAMES } from "../../src/config/settings";

let core: FunctionsCore;
beforeAll(async () => {
  core = installFunctionsCore();
  await import("../../src/index.js");
});

const reg = (name: string): Registration => core.get(name);
const extraBindings = (name: string) => Object.values(reg(name).metadata.bindings).filter((b) => b.direction === "in" && !/Trigger$/.test(b.type));

describe("function registrations", () => {
  it("registers exactly the app's functions", () => {
    expect([...core.registrations.keys()].sort()).toEqual(
      [
        "addPlayers",
        "assignSessions",
        "dashboard",
        "leaveQueue",
        "matchMade",
        "matchRequest",
        "negotiate",
        "openapi",
        "partyConsent",
        "publishPartyRequest",
        "ping",
        "purgeInstances",
        "server",
        "serverAck",
        "serverAllocation",
        "serverBackfill",
        "serverRelease",
        "servers",
        "stats",
        "ticket",
        "ticketAccept",
        "ticketStatus",
        "tickets",
      ].sort(),
    );
  });

  it("addPlayers: Event Hub batch trigger on %PLAYER_REQUESTS_HUB% with a retry policy and a durable client", () => {
    const r = reg("addPlayers");
    expect(r.trigger).toMatchObject({
      type: "eventHubTrigger",
      eventHubName: `%${SETTING_NAMES.playerRequestsHub}%`,
      connection: "EventHubConnection",
      cardinality: "many",
      consumerGroup: "matchmaker",
      direction: "in",
    });
    // Without a retry policy the Event Hub checkpoint advances past a batch whose invocation threw.
    expect(r.metadata.retryOptions).toMatchObject({ retryStrategy: "exponentialBackoff", maxRetryCount: -1 });
    expect(r.metadata.retryOptions?.minimumInterval).toBeDefined();
    expect(r.metadata.retryOptions?.maximumInterval).toBeDefined();
    expect(extraBindings("addPlayers").map((b) => b.type)).toEqual(["durableClient"]);
  });

  it("matchMade: Event Hub batch trigger on %MATCH_MADE_HUB% with a retry policy and a durable client", () => {
    const r = reg("matchMade");
    expect(r.trigger).toMatchObject({
      type: "eventHubTrigger",
      eventHubName: `%${SETTING_NAMES.matchMadeHub}%`,
      connection: "EventHubConnection",
      cardinality: "many",
    });
    expect(r.metadata.retryOptions).toMatchObject({ retryStrategy: "exponentialBackoff", maxRetryCount: -1 });
    expect(extraBindings("matchMade").map((b) => b.type)).toEqual(["durableClient"]);
  });

  it("assignSessions: timer on %ASSIGN_SCHEDULE%; durable orchestrator and activity triggers", () => {
    expect(reg("assignSessions").trigger).toMatchObject({ type: "timerTrigger", schedule: `%${SETTING_NAMES.assignSchedule}%`, runOnStartup: false });
    expect(reg("matchRequest").trigger.type).toBe("orchestrationTrigger");
    expect(reg("leaveQueue").trigger.type).toBe("activityTrigger");
    expect(reg("partyConsent").trigger.type).toBe("orchestrationTrigger");
    expect(reg("publishPartyRequest").trigger.type).toBe("activityTrigger");
  });

  it("purgeInstances: a timer with a durable client (finished instances past the ticket retention)", () => {
    expect(reg("purgeInstances").trigger).toMatchObject({ type: "timerTrigger", schedule: "0 */10 * * * *", runOnStartup: false });
    expect(extraBindings("purgeInstances").map((b) => b.type)).toEqual(["durableClient"]);
  });

  it.each([
    ["tickets", "tickets", "anonymous", true],
    ["ticket", "tickets/{playerId}", "anonymous", true],
    ["negotiate", "tickets/{playerId}/negotiate", "anonymous", false],
    ["ticketStatus", "tickets/{playerId}/status", "anonymous", true],
    ["ticketAccept", "tickets/{playerId}/accept", "anonymous", true],
    ["server", "servers/{serverId}", "function", false],
    ["serverRelease", "servers/{serverId}/release", "function", false],
    ["serverAck", "servers/{serverId}/ack", "function", false],
    ["servers", "servers", "function", false],
    ["serverAllocation", "servers/{serverId}/allocation", "function", false],
    ["serverBackfill", "servers/{serverId}/backfill", "function", false],
    ["stats", "stats", "anonymous", false],
    ["openapi", "openapi.json", "anonymous", false],
    ["ping", "ping", "anonymous", false],
    ["dashboard", "dashboard", "function", false],
  ])("HTTP %s: route %s, auth level %s", (name, route, authLevel, durable) => {
    const r = reg(name);
    expect(r.trigger).toMatchObject({ type: "httpTrigger", route, authLevel });
    // Every common method reaches the handler so that unsupported ones get our JSON 405, not a bare 404.
    expect(r.trigger.methods).toEqual(["GET", "POST", "PUT", "PATCH", "DELETE"]);
    expect(Object.values(r.metadata.bindings).some((b) => b.type === "http" && b.direction === "out")).toBe(true);
    expect(extraBindings(name).some((b) => b.type === "durableClient")).toBe(durable);
  });
});

describe("configuration errors", () => {
  it("fail the start (the appStart hook throws with every problem listed) instead of answering 500 forever", async () => {
    const names = ["TICKET_SIGNING_KEY", "MATCH_MODES", "MATCH_TIMEOUT_SECONDS"] as const;
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    process.env.TICKET_SIGNING_KEY = "too-short";
    process.env.MATCH_MODES = '{"duel":0}';
    process.env.MATCH_TIMEOUT_SECONDS = "abc";
    resetSettingsCache();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      // The worker runs appStart hooks once after loading the entry point; a throwing hook fails the start.
      const failure = await core.start().then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failure?.name).toBe("ConfigError");
      expect(failure?.message).toContain("Invalid matchmaker configuration");
      expect(failure?.message).toContain("TICKET_SIGNING_KEY must be set to a secret of at least 32 characters");
      expect(failure?.message).toContain("MATCH_MODES mode duel: session size must be an integer 1-100, got 0");
      expect(failure?.message).toContain('MATCH_TIMEOUT_SECONDS must be an integer 1-3600, got "abc"');
      // Logged once, in a form an operator can act on.
      expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).toContain("Fix these app settings");
      // Should a host invoke a function anyway, the answer is still no crash and no leak.
      const res = await invokeHttp(core, "stats", { method: "GET", url: "http://x/api/stats" });
      expect(res.status).toBe(500);
      expect(res.json).toMatchObject({ error: "configuration_error" });
    } finally {
      errors.mockRestore();
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
      resetSettingsCache();
    }
  });

  it("an NCRONTAB schedule is the host's to validate: the settings do not count its fields", () => {
    const env = { TICKET_SIGNING_KEY: "k".repeat(32), ASSIGN_SCHEDULE: "*/5 * * * *" };
    expect(loadSettings(env).assignSchedule).toBe("*/5 * * * *");
  });
});
