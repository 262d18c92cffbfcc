/**
 * The template and the code agree: every app setting the code reads is provided by azuredeploy.json, every
 * Event Hub name, consumer group and connection prefix of the function registrations (captured from the real
 * `@azure/functions` registrations, as the host receives them) exists in the template, and nothing the
 * template sets as an app setting is unused. The values the template sets pass the app's own validation.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { installFunctionsCore, type FunctionsCore, type Registration } from "../../local-runtime/functionsCore";
import { resolveBindingExpression } from "../../local-runtime/host/appConfig";
import { EVENTHUB_CONNECTION, SETTING_NAMES, loadSettings } from "../../src/config/settings";
import { WEB_PUBSUB_CONNECTION } from "../../src/messaging/webPubSub";
import { appSettingsOf, asEnv, checkTemplate, type DeclaredResource } from "./arm";
import { resolveKeyVaultReferences } from "./stampChecks";
import { normalizeModes } from "../../src/domain/modeRules";
import {
  MULTI_TEMPLATE,
  PLATFORM_PROVIDED_ENV,
  PLATFORM_SETTINGS,
  ROOT,
  STAMP_PARAMETERS,
  STAMP_TEMPLATE,
  parameterValues,
  readJson,
  readTemplate,
  valuesOf,
} from "./support";

const APP_ENTRY = join(ROOT, "src", "index.ts");

let core: FunctionsCore;
beforeAll(async () => {
  // The registrations are made at module load: the shim must be in place before the app is imported.
  core = installFunctionsCore();
  if (!existsSync(APP_ENTRY)) {
    throw new Error(`${relative(ROOT, APP_ENTRY)} (the function app's entry point) does not exist: its registrations cannot be checked against the template`);
  }
  await import("../../src/index.js");
  if (core.registrations.size === 0) throw new Error("src/index.ts registered no functions");
});

/** The stamp evaluated with the given parameter values. */
function stamp(values: Record<string, unknown> = {}) {
  const result = checkTemplate(readTemplate(STAMP_TEMPLATE), values);
  expect(result.problems).toEqual([]);
  const site = [...result.evaluated].find(([d]) => d.type === "Microsoft.Web/sites")![1];
  const settings = appSettingsOf(site);
  /** As the app reads them on Azure: Key Vault references resolved to the secrets the template writes. */
  const resolved = resolveKeyVaultReferences(settings, result.evaluated);
  return { ...result, settings, resolved };
}

/** Names the code reads with process.env.X or process.env["X"] (production code only: not the local runtime or dev tools). */
function envReadsInSource(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const rel = relative(ROOT, abs).split("\\").join("/");

      if (statSync(abs).isDirectory()) walk(abs);
      else if (name.endsWith(".ts")) {
        const text = readFileSync(abs, "utf8");
        for (const m of text.matchAll(/process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[\s*["'`]([^"'`]+)["'`]\s*\]/g)) found.set(m[1] ?? m[2]!, rel);
      }
    }
  };
  walk(join(ROOT, "src"));
  return found;
}

/** Every %SETTING% expression in a value (binding metadata, host.json). */
function settingExpressions(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") for (const m of value.matchAll(/%([^%]+)%/g)) out.add(m[1]!);
  else if (Array.isArray(value)) value.forEach((v) => settingExpressions(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => settingExpressions(v, out));
  return out;
}

/** `%SETTING%` expressions resolved from the template's app settings, as the local host resolves them. */
const resolveExpr = (value: string, settings: Map<string, unknown>): string => resolveBindingExpression(value, asEnv(settings));

const eventHubBindings = (regs: Registration[]) =>
  regs.flatMap((r) =>
    Object.entries(r.metadata.bindings)
      .filter(([, b]) => /^eventhub(trigger)?$/i.test(b.type))
      .map(([name, b]) => ({ fn: r.metadata.name, name, binding: b })),
  );

describe("app settings: template vs code", () => {
  it("provides every setting the code reads", () => {
    const { settings } = stamp();
    const read = new Set<string>(Object.values(SETTING_NAMES));
    for (const name of envReadsInSource().keys()) if (!PLATFORM_PROVIDED_ENV.includes(name)) read.add(name);
    const missing = [...read].filter((n) => !settings.has(n));
    expect(missing, "settings the code reads but azuredeploy.json does not set").toEqual([]);
  });

  it("sets nothing that is unused", () => {
    const { settings } = stamp();
    const regs = [...core.registrations.values()];
    const used = new Set<string>([...Object.values(SETTING_NAMES), ...envReadsInSource().keys(), ...PLATFORM_SETTINGS]);
    for (const r of regs) for (const name of settingExpressions(r.metadata)) used.add(name);
    for (const name of settingExpressions(readJson(join(ROOT, "host.json")))) used.add(name);
    // An identity-based connection is a setting prefix: the host (and our publisher) read <prefix>__<property>.
    const prefixes = new Set([...eventHubBindings(regs).map((b) => String(b.binding.connection)), WEB_PUBSUB_CONNECTION]);
    const unused = [...settings.keys()].filter((n) => !used.has(n) && ![...prefixes].some((p) => n.startsWith(`${p}__`)));
    expect(unused, "app settings azuredeploy.json sets but nothing reads").toEqual([]);
  });

  it("sets values the app accepts (its own validation, as at start-up)", () => {
    expect(() => loadSettings(asEnv(stamp().resolved))).not.toThrow();
    const fromFile = stamp(parameterValues(STAMP_PARAMETERS));
    const s = loadSettings(asEnv(fromFile.resolved));
    expect(s.modes).toEqual(normalizeModes(parameterValues(STAMP_PARAMETERS).modes as Record<string, number>));
    expect(s.defaultMode).toBe(parameterValues(STAMP_PARAMETERS).defaultMode);
    expect(s.redisMode).toBe("cluster");
    expect(s.redisAuth).toBe("entraId");
    expect(s.redisConnectionString).toMatch(/^rediss:\/\/.+:10000$/);
    expect(s.identity.ticketKeys).toEqual([{ kid: "k1", key: expect.stringMatching(/^.{32,}$/) }]);
    expect(s.identity.playerAuth.mode).toBe("none");
    // PLAYER_AUTH=jwt with an issuer and an audience passes the app's validation too.
    const jwt = stamp({ playerAuth: "jwt", playerAuthIssuer: "https://login.example.com/tenant/v2.0", playerAuthAudience: "api://matchmaker" });
    expect(loadSettings(asEnv(jwt.resolved)).identity.playerAuth).toMatchObject({ mode: "jwt", issuer: "https://login.example.com/tenant/v2.0" });
    // Each stamp of the multi-region template serves exactly its own region.
    const multi = checkTemplate(readTemplate(MULTI_TEMPLATE));
    for (const [, body] of [...multi.evaluated].filter(([d]) => d.type === "Microsoft.Resources/deployments")) {
      const values = valuesOf((body.properties as { parameters: Record<string, { value: unknown }> }).parameters);
      const ms = loadSettings(asEnv(stamp(values).resolved));
      expect(ms.regions).toEqual([values.location]);
      expect(ms.defaultRegion).toBe(values.location);
    }
  });

  it("uses identity everywhere: no connection strings or keys in settings", () => {
    const { settings } = stamp();
    const regs = [...core.registrations.values()];
    for (const b of eventHubBindings(regs)) expect(settings.has(String(b.binding.connection)), `${b.binding.connection} (connection string form)`).toBe(false);
    expect(settings.has("AzureWebJobsStorage")).toBe(false);
    expect(settings.get("REDIS_AUTH")).toBe("entraId");
    expect(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")).toBe("Authorization=AAD");
  });
});

describe("function registrations: template vs code", () => {
  it("every Event Hub binding's hub, consumer group and connection exist in the template", () => {
    const { settings, resources } = stamp();
    const regs = [...core.registrations.values()];
    const bindings = eventHubBindings(regs);
    expect(bindings.map((b) => b.fn).sort()).toEqual(expect.arrayContaining(["addPlayers", "matchMade"]));
    const ns = resources.find((r) => r.type === "Microsoft.EventHub/namespaces")!;
    const hubs = resources.filter((r: DeclaredResource) => r.type === "Microsoft.EventHub/namespaces/eventhubs").map((r) => r.name.split("/")[1]);
    const groups = resources
      .filter((r) => r.type === "Microsoft.EventHub/namespaces/eventhubs/consumergroups")
      .map((r) => r.name.split("/").slice(1).join("/"));
    for (const { fn, binding } of bindings) {
      const hub = resolveExpr(String(binding.eventHubName), settings);
      expect(hubs, `${fn}: hub ${binding.eventHubName} -> ${hub}`).toContain(hub);
      if (/trigger$/i.test(binding.type)) {
        const group = resolveExpr(String(binding.consumerGroup ?? "$Default"), settings);
        // $Default exists on every hub; any other group must be created by the template.
        if (group !== "$Default") expect(groups, `${fn}: consumer group ${group} on ${hub}`).toContain(`${hub}/${group}`);
      }
      const prefix = String(binding.connection);
      expect(settings.get(`${prefix}__fullyQualifiedNamespace`), `${fn}: ${prefix}__fullyQualifiedNamespace`).toBe(`${ns.name}.servicebus.windows.net`);
    }
    // The publisher sends with the same connection the triggers use.
    const prefixes = new Set(bindings.map((b) => String(b.binding.connection)));
    expect([...prefixes]).toEqual([EVENTHUB_CONNECTION]);
    // Both hubs the code sends to are declared (publisher hub names come from settings).
    expect(hubs).toContain(settings.get("PLAYER_REQUESTS_HUB"));
    expect(hubs).toContain(settings.get("MATCH_MADE_HUB"));
  });

  it("every %SETTING% in any binding and in host.json is an app setting of the template", () => {
    const { settings } = stamp();
    const referenced = new Map<string, string>();
    for (const r of core.registrations.values()) for (const name of settingExpressions(r.metadata)) referenced.set(name, r.metadata.name);
    for (const name of settingExpressions(readJson(join(ROOT, "host.json")))) referenced.set(name, "host.json");
    expect(referenced.size).toBeGreaterThan(0);
    for (const [name, where] of referenced) expect(settings.has(name), `%${name}% used by ${where}`).toBe(true);
    const timer = [...core.registrations.values()].find((r) => r.trigger.type === "timerTrigger");
    expect(timer, "the assignSessions timer").toBeDefined();
    expect(resolveExpr(String(timer!.trigger.schedule), settings).split(/\s+/)).toHaveLength(6);
  });

  it("Traffic Manager probes a route the app serves anonymously with GET", () => {
    const template = readTemplate(MULTI_TEMPLATE);
    const probe = String(template.parameters!.healthProbePath!.defaultValue);
    const routePrefix = (
      readJson<{ extensions?: { http?: { routePrefix?: string } } }>(join(ROOT, "host.json")).extensions?.http?.routePrefix ?? "api"
    ).replace(/^\/|\/$/g, "");
    const http = [...core.registrations.values()].filter((r) => r.trigger.type === "httpTrigger");
    const served = http.find((r) => `/${routePrefix}/${String(r.trigger.route ?? r.metadata.name)}` === probe);
    expect(served, `an HTTP function on ${probe}`).toBeDefined();
    expect(String(served!.trigger.authLevel).toLowerCase()).toBe("anonymous");
    expect((served!.trigger.methods as string[] | undefined)?.map((m) => m.toUpperCase()) ?? ["GET"]).toContain("GET");
  });

  it("host.json fits Flex Consumption: Functions v4 host with extension bundle 4.x", () => {
    const host = readJson<{ version: string; extensionBundle?: { id: string; version: string } }>(join(ROOT, "host.json"));
    expect(host.version).toBe("2.0");
    expect(host.extensionBundle?.id).toBe("Microsoft.Azure.Functions.ExtensionBundle");
    // A range like "[4.*, 5.0.0)": the lowest allowed major version must be 4 or later.
    const lowest = /^\[\s*(\d+)/.exec(host.extensionBundle?.version ?? "");
    expect(Number(lowest?.[1]), `extension bundle range ${host.extensionBundle?.version}`).toBeGreaterThanOrEqual(4);
  });

  it("the Durable task hub name in host.json is valid for the Azure Storage provider", () => {
    const hub = readJson<{ extensions?: { durableTask?: { hubName?: string } } }>(join(ROOT, "host.json")).extensions?.durableTask?.hubName;
    expect(hub, "host.json extensions.durableTask.hubName").toBeDefined();
    const { settings } = stamp();
    expect(resolveExpr(hub!, settings)).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  });
});
