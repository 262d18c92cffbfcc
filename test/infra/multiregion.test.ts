/**
 * infra/azuredeploy.multiregion.json: Traffic Manager (performance routing) in front of one stamp per region,
 * each stamp being exactly azuredeploy.json. Checked offline with the same resolver and security rules.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkTemplate, type Template } from "./arm";
import { MULTI_PARAMETERS, MULTI_TEMPLATE, ROOT, STAMP_TEMPLATE, parameterValues, readTemplate, valuesOf } from "./support";
import { expectCurrentApiVersions, expectSecureStamp } from "./stampChecks";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator = require(join(ROOT, "infra", "build-multiregion.js")) as { render(): string };

function checkMultiRegion(values: Record<string, unknown>) {
  const template = readTemplate(MULTI_TEMPLATE);
  const result = checkTemplate(template, values);
  expect(result.problems).toEqual([]);
  const regions = result.evaluator.params.regions as string[];
  const stamps = [...result.evaluated].filter(([d]) => d.type === "Microsoft.Resources/deployments");
  const tm = [...result.evaluated].find(([d]) => d.type === "Microsoft.Network/trafficmanagerprofiles")![1];
  return { template, result, regions, stamps, tm };
}

describe("infra/azuredeploy.multiregion.json", () => {
  it("is exactly what infra/build-multiregion.js makes from azuredeploy.json (run it after editing azuredeploy.json)", () => {
    expect(readFileSync(MULTI_TEMPLATE, "utf8")).toBe(generator.render());
  });

  it("sets expressionEvaluationOptions.scope to a value the official ARM schema allows (NotSpecified, Outer, Inner)", () => {
    // deploymentTemplate.json#/definitions/expressionEvaluationOptions: enum ["NotSpecified", "Outer", "Inner"], case as written.
    const deployments = (
      readTemplate(MULTI_TEMPLATE).resources as { type: string; properties?: { expressionEvaluationOptions?: { scope?: string } } }[]
    ).filter((r) => r.type === "Microsoft.Resources/deployments");
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) expect(["NotSpecified", "Outer", "Inner"]).toContain(d.properties?.expressionEvaluationOptions?.scope);
  });

  it("the generator answers --help and --check (util.parseArgs)", () => {
    const script = join(ROOT, "infra", "build-multiregion.js");
    expect(spawnSync(process.execPath, [script, "--help"], { encoding: "utf8" }).stdout).toMatch(/usage: node infra\/build-multiregion\.js \[--check\]/);
    const check = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/is up to date/);
    const bad = spawnSync(process.execPath, [script, "--chek"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Unknown option '--chek'/);
  });

  it("resolves every name and uses only verified apiVersions", () => {
    const template = readTemplate(MULTI_TEMPLATE);
    expect(checkTemplate(template).problems).toEqual([]);
    expectCurrentApiVersions(template, "multiregion");
  });

  it("deploys azuredeploy.json once per region, with every parameter it needs and only those", () => {
    const stampTemplate = readTemplate(STAMP_TEMPLATE);
    const { regions, stamps } = checkMultiRegion({});
    expect(regions.length).toBeGreaterThanOrEqual(2);
    expect(stamps).toHaveLength(regions.length);
    stamps.forEach(([, body], i) => {
      const p = body.properties as {
        mode: string;
        expressionEvaluationOptions: { scope: string };
        template: Template;
        parameters: Record<string, { value: unknown }>;
      };
      expect(p.mode).toBe("Incremental");
      expect(p.expressionEvaluationOptions.scope).toBe("Inner");
      expect(p.template).toEqual(stampTemplate);
      const declared = stampTemplate.parameters ?? {};
      for (const name of Object.keys(p.parameters)) expect(Object.keys(declared)).toContain(name);
      for (const [name, decl] of Object.entries(declared)) if (!("defaultValue" in decl)) expect(p.parameters).toHaveProperty(name);
      const values = valuesOf(p.parameters);
      expect(values.location).toBe(regions[i]);
      expect(values.regions).toEqual([regions[i]]);
      // Each stamp, with the values this template passes, is itself a valid and secure stamp.
      expectSecureStamp(stampTemplate, values);
    });
  });

  it("puts Traffic Manager with performance routing and health probes in front of every stamp", () => {
    const { tm, regions, stamps } = checkMultiRegion({});
    const p = tm.properties as Record<string, any>;
    expect(tm.location).toBe("global");
    expect(p.trafficRoutingMethod).toBe("Performance");
    expect(p.monitorConfig).toMatchObject({ protocol: "HTTPS", port: 443, path: "/api/openapi.json" });
    expect(p.endpoints).toHaveLength(regions.length);
    p.endpoints.forEach((e: { type: string; properties: { target: string; endpointLocation: string; endpointStatus: string } }, i: number) => {
      expect(e.type).toBe("Microsoft.Network/trafficManagerProfiles/externalEndpoints");
      expect(e.properties.endpointLocation).toBe(regions[i]);
      expect(e.properties.endpointStatus).toBe("Enabled");
      // The target is the stamp's own function app host name, read from that stamp's deployment outputs.
      expect(String(e.properties.target)).toBe(`<reference:${stamps[i]![0].name}.outputs.functionAppHostName.value>`);
    });
    expect(tm.dependsOn).toEqual(["stamps"]);
  });

  it("outputs where clients go and one entry per stamp", () => {
    const { result, regions } = checkMultiRegion({});
    expect(String(result.outputs.trafficManagerFqdn)).toMatch(/^<reference:.*dnsConfig\.fqdn>$/);
    // Without a custom domain there is no single URL: clients discover their stamp through the Traffic Manager name.
    expect(result.outputs.ticketApiUrl).toBe("");
    expect((result.outputs.stamps as { region: string }[]).map((s) => s.region)).toEqual(regions);
    // With the custom domain bound to every stamp, clients use it.
    const custom = checkMultiRegion({ customDomain: "play.example.com" });
    expect(custom.result.outputs.ticketApiUrl).toBe("https://play.example.com/api/tickets");
  });

  it("accepts its parameters file", () => {
    const values = parameterValues(MULTI_PARAMETERS);
    expect(values).not.toHaveProperty("ticketSigningKey");
    const { regions, stamps } = checkMultiRegion(values);
    expect(regions).toEqual(values.regions);
    expect(stamps).toHaveLength(regions.length);
    const names = new Set(stamps.map(([d]) => d.name));
    expect(names.size).toBe(regions.length);
  });
});
