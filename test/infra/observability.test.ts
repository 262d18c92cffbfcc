/** The template's observability: Application Insights on a workspace, wired to the app, and the scale-out alert on the app's own metric. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const template = JSON.parse(readFileSync(join(__dirname, "..", "..", "azuredeploy.json"), "utf8"));
const resource = (type: string) => template.resources.find((r: { type: string }) => r.type === type);

it("wires workspace-based Application Insights to the app and alerts on sessions waiting for servers", () => {
  const appi = resource("Microsoft.Insights/components");
  expect(appi.properties.WorkspaceResourceId).toContain("Microsoft.OperationalInsights/workspaces");
  const site = resource("Microsoft.Web/sites");
  const settings = new Map(site.properties.siteConfig.appSettings.map((s: { name: string; value: string }) => [s.name, s.value]));
  expect(settings.get("APPLICATIONINSIGHTS_CONNECTION_STRING")).toContain("Microsoft.Insights/components");
  expect(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")).toBe("Authorization=AAD");

  const alert = resource("Microsoft.Insights/metricAlerts");
  expect(alert.properties.scopes).toEqual(["[resourceId('Microsoft.Insights/components', variables('appInsightsName'))]"]);
  const [criterion] = alert.properties.criteria.allOf;
  // The name the app's meter uses (src/telemetry/metrics.ts), in the namespace OpenTelemetry metrics land in.
  const metricsSource = readFileSync(join(__dirname, "..", "..", "src", "telemetry", "metrics.ts"), "utf8");
  expect(metricsSource).toContain(`"${criterion.metricName}"`);
  expect(criterion).toMatchObject({ metricNamespace: "azure.applicationinsights", operator: "GreaterThan", threshold: 0, skipMetricValidation: true });
  expect(resource("Microsoft.Insights/actionGroups").condition).toBe("[not(empty(parameters('alertEmail')))]");
});
