/**
 * azuredeploy.json (one regional stamp), checked offline: valid JSON, every name resolvable, current resource
 * types and apiVersions, and the security defaults the README promises.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { appSettingsOf, checkTemplate, collectExpressions, walkAst, type Template } from "./arm";
import { API_VERSIONS, INFRA_README, ROOT, STAMP_PARAMETERS, STAMP_TEMPLATE, parameterValues, readTemplate } from "./support";
import { all, expectCurrentApiVersions, expectSecureStamp, props } from "./stampChecks";

describe("azuredeploy.json", () => {
  const raw = readFileSync(STAMP_TEMPLATE, "utf8");
  const template = readTemplate(STAMP_TEMPLATE);

  it("is valid JSON with every parameter, variable, resourceId, reference and dependsOn resolvable", () => {
    expect(() => JSON.parse(raw)).not.toThrow();
    const { problems, resources } = checkTemplate(template);
    expect(problems).toEqual([]);
    expect(resources.length).toBe(template.resources.length);
  });

  it("uses only verified, current resource types and apiVersions", () => {
    expectCurrentApiVersions(template, "azuredeploy.json");
  });

  it("holds the security defaults", () => {
    expectSecureStamp(template);
  });

  it("reads no secrets at deployment time (no list* functions anywhere)", () => {
    const fns = new Set<string>();
    for (const e of collectExpressions(template)) walkAst(e.ast, (n) => n.kind === "call" && fns.add(n.name.toLowerCase()));
    expect([...fns].filter((f) => f.startsWith("list"))).toEqual([]);
  });

  it("gives the outputs clients and operators need", () => {
    const { outputs } = checkTemplate(template);
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(["functionAppUrl", "ticketApiUrl", "playerRequestsHub", "matchMadeHub", "functionAppName", "functionAppHostName"]),
    );
    expect(outputs.playerRequestsHub).toBe("player-requests");
    expect(outputs.matchMadeHub).toBe("match-made");
    expect(String(outputs.ticketApiUrl)).toMatch(/^https:\/\/<reference:.*defaultHostName>\/api\/tickets$/);
  });

  it("derives names that Azure accepts", () => {
    const { resources } = checkTemplate(template);
    const name = (type: string) => resources.find((r) => r.type === type)!.name;
    expect(name("Microsoft.Storage/storageAccounts")).toMatch(/^[a-z0-9]{3,24}$/);
    expect(name("Microsoft.EventHub/namespaces")).toMatch(/^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$/);
    expect(name("Microsoft.Cache/redisEnterprise")).toMatch(/^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/);
    expect(name("Microsoft.Web/sites")).toMatch(/^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/);
    expect(name("Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments").split("/").pop()).toMatch(/^[A-Za-z0-9]{1,60}$/);
    // Two stamps in one resource group (the multi-region layout) must not collide.
    const other = checkTemplate(template, { location: "eastus2" }).resources;
    for (const r of resources) expect(other.find((o) => o.index === r.index)!.id).not.toBe(r.id);
  });

  it("deploys the Durable backend it is told to: Azure Storage by default, or the Durable Task Scheduler by identity", () => {
    const hostJson = JSON.parse(readFileSync(join(ROOT, "host.json"), "utf8")) as {
      extensions: { durableTask: { hubName: string; storageProvider?: unknown } };
    };
    // host.json stays one file for both backends: the choice is a host.json override in the app settings.
    expect(hostJson.extensions.durableTask.storageProvider).toBeUndefined();
    const deployed = (values: Record<string, unknown>) => {
      const { evaluated, problems } = checkTemplate(template, values);
      expect(problems).toEqual([]);
      const site = all(evaluated, "Microsoft.Web/sites")[0]!;
      return { evaluated, settings: appSettingsOf(site), site };
    };
    const storage = deployed({});
    expect(all(storage.evaluated, "Microsoft.DurableTask/schedulers")).toEqual([]);
    expect(all(storage.evaluated, "Microsoft.DurableTask/schedulers/taskHubs")).toEqual([]);
    expect(storage.settings.get("AzureFunctionsJobHost__extensions__durableTask__storageProvider__type")).toBe("AzureStorage");
    // The Azure Storage provider's connection is the host storage, by identity (AzureWebJobsStorage__accountName).
    expect(storage.settings.get("AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName")).toBe("AzureWebJobsStorage");
    expect(storage.settings.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING")).toBe("");
    expectSecureStamp(template, {});

    const values = { durableBackend: "durableTaskScheduler", durableTaskSchedulerSku: "Dedicated", durableTaskSchedulerCapacity: 2 };
    const dts = deployed(values);
    const [scheduler] = all(dts.evaluated, "Microsoft.DurableTask/schedulers");
    expect(props(scheduler!).sku).toEqual({ name: "Dedicated", capacity: 2 });
    // An empty allow list denies every call, even with the right role.
    expect((props(scheduler!).ipAllowlist as string[]).length).toBeGreaterThan(0);
    const [hub] = all(dts.evaluated, "Microsoft.DurableTask/schedulers/taskHubs");
    expect(String(hub!.name).split("/").pop()).toBe(hostJson.extensions.durableTask.hubName);
    expect(String(hub!.name).split("/").pop()).toMatch(/^[a-zA-Z0-9-]{3,64}$/);
    expect(String(scheduler!.name)).toMatch(/^[a-zA-Z0-9-]{3,64}$/);
    expect(dts.settings.get("AzureFunctionsJobHost__extensions__durableTask__storageProvider__type")).toBe("azureManaged");
    expect(dts.settings.get("AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName")).toBe(
      "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    );
    expect(String(dts.settings.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING"))).toMatch(
      new RegExp(`^Endpoint=<reference:[^>]*\\.endpoint>;TaskHub=${hostJson.extensions.durableTask.hubName};Authentication=ManagedIdentity$`),
    );
    expect((dts.site.dependsOn as string[]).some((d) => /Microsoft\.DurableTask\/schedulers\/[^/]+\/taskHubs\//.test(d))).toBe(true);
    expectSecureStamp(template, values);
    const consumption = deployed({ durableBackend: "durableTaskScheduler" });
    expect(props(all(consumption.evaluated, "Microsoft.DurableTask/schedulers")[0]!).sku).toEqual({ name: "Consumption" });
  });

  it("deploys the code itself only when packageUri is given, after the identity may read the container", () => {
    const without = checkTemplate(template);
    const ext = [...without.evaluated].find(([d]) => d.type === "Microsoft.Web/sites/extensions")!;
    expect(ext[1].condition).toBe(false);
    const withUri = checkTemplate(template, { packageUri: "https://example.blob.core.windows.net/releases/matchmaker.zip" });
    expect(withUri.problems).toEqual([]);
    const body = [...withUri.evaluated].find(([d]) => d.type === "Microsoft.Web/sites/extensions")![1];
    expect(body.condition).toBe(true);
    expect(props(body)).toEqual({ packageUri: "https://example.blob.core.windows.net/releases/matchmaker.zip", remoteBuild: false });
    expect((body.dependsOn as string[]).some((d) => d.includes("Microsoft.Authorization/roleAssignments"))).toBe(true);
  });

  it("catches what it claims to catch (the checker itself)", () => {
    const broken = JSON.parse(raw) as Template;
    broken.variables!.unused = "x";
    broken.resources[0]!.dependsOn = ["[resourceId('Microsoft.Web/sites', 'nope')]"];
    (broken.resources[1]!.properties as Record<string, unknown>).WorkspaceResourceId = "[parameters('missing')]";
    broken.outputs!.typo = { type: "string", value: "[toLowr('A')]" };
    delete broken.resources.find((r) => r.type === "Microsoft.Storage/storageAccounts/blobServices")!.dependsOn;
    const { problems } = checkTemplate(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        "variable unused is declared but never used",
        "parameters('missing') is used but not declared",
        expect.stringMatching(/dependsOn .*Microsoft\.Web\/sites\/nope, which the template does not declare/),
        expect.stringMatching(/unknown template function tolowr\(\)/),
        expect.stringMatching(/\/default\) does not dependsOn its parent\/scope .*storageAccounts\/mmst/),
      ]),
    );
  });
});

describe("infra/azuredeploy.parameters.json", () => {
  it("only sets declared parameters, with values the template accepts", () => {
    const values = parameterValues(STAMP_PARAMETERS);
    expect(Object.keys(values).length).toBeGreaterThan(0);
    const declared = Object.keys(readTemplate(STAMP_TEMPLATE).parameters ?? {});
    for (const k of Object.keys(values)) expect(declared).toContain(k);
    expect(values).not.toHaveProperty("ticketSigningKey"); // secrets never go in a committed file
    expectSecureStamp(readTemplate(STAMP_TEMPLATE), values);
  });
});

describe("infra/README.md", () => {
  it("records the source of every allowed resource type and apiVersion", () => {
    const readme = readFileSync(INFRA_README, "utf8");
    for (const [type, version] of Object.entries(API_VERSIONS)) {
      const row = readme.split("\n").find((l) => l.startsWith("|") && l.includes(`\`${type}\``) && l.includes(version));
      expect(row, `README row for ${type} ${version}`).toBeDefined();
      expect(row!.split("|").filter((c) => c.trim()).length, `source column for ${type}`).toBeGreaterThanOrEqual(3);
    }
  });
});
