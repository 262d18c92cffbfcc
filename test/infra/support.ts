/**
 * Shared facts for the infra tests: where the templates are, the resource types and apiVersions we allow
 * (each verified against a published source, recorded in infra/README.md), and the security rules.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Template } from "./arm";

export const ROOT = join(__dirname, "..", "..");
export const STAMP_TEMPLATE = join(ROOT, "azuredeploy.json");
export const STAMP_PARAMETERS = join(ROOT, "infra", "azuredeploy.parameters.json");
export const MULTI_TEMPLATE = join(ROOT, "infra", "azuredeploy.multiregion.json");
export const MULTI_PARAMETERS = join(ROOT, "infra", "azuredeploy.multiregion.parameters.json");
export const INFRA_README = join(ROOT, "infra", "README.md");

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
export const readTemplate = (path: string) => readJson<Template>(path);

/** The values of ARM parameters as a parameters file or a nested deployment passes them ({x: {value}}). */
export function valuesOf(parameters: Record<string, { value?: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.value]));
}

/** Values of an ARM parameters file ({parameters: {x: {value}}}). */
export function parameterValues(path: string): Record<string, unknown> {
  const file = readJson<{ $schema: string; parameters: Record<string, { value?: unknown; reference?: unknown }> }>(path);
  if (!/deploymentParameters\.json#$/.test(file.$schema)) throw new Error(`${path}: $schema is not a deployment parameters schema`);
  return valuesOf(file.parameters);
}

/**
 * Resource type -> the one apiVersion our templates may use. Each entry was checked against the source named
 * in infra/README.md ("Resource types and API versions"); the README table and this list must agree (tested).
 */
export const API_VERSIONS: Record<string, string> = {
  "Microsoft.OperationalInsights/workspaces": "2025-02-01",
  "Microsoft.Insights/components": "2020-02-02",
  "Microsoft.Insights/actionGroups": "2023-01-01",
  "Microsoft.Insights/metricAlerts": "2018-03-01",
  "Microsoft.Storage/storageAccounts": "2024-01-01",
  "Microsoft.Storage/storageAccounts/blobServices": "2024-01-01",
  "Microsoft.Storage/storageAccounts/blobServices/containers": "2024-01-01",
  "Microsoft.EventHub/namespaces": "2024-01-01",
  "Microsoft.EventHub/namespaces/eventhubs": "2024-01-01",
  "Microsoft.EventHub/namespaces/eventhubs/consumergroups": "2024-01-01",
  "Microsoft.Cache/redisEnterprise": "2025-07-01",
  "Microsoft.Cache/redisEnterprise/databases": "2025-07-01",
  "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments": "2025-07-01",
  "Microsoft.SignalRService/webPubSub": "2024-03-01",
  "Microsoft.SignalRService/webPubSub/hubs": "2024-03-01",
  "Microsoft.Web/serverfarms": "2024-04-01",
  "Microsoft.Web/sites": "2024-04-01",
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2024-04-01",
  "Microsoft.Web/sites/extensions": "2024-04-01",
  "Microsoft.Authorization/roleAssignments": "2022-04-01",
  "Microsoft.Network/trafficmanagerprofiles": "2022-04-01",
  "Microsoft.Resources/deployments": "2025-04-01",
  "Microsoft.KeyVault/vaults": "2023-07-01",
  "Microsoft.KeyVault/vaults/secrets": "2023-07-01",
  "Microsoft.DurableTask/schedulers": "2025-11-01",
  "Microsoft.DurableTask/schedulers/taskHubs": "2025-11-01",
};

/** Built-in role definition ids (subscription-level resources that templates reference but never declare). */
export const ROLE_DEFINITIONS = {
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  eventHubsDataSender: "2b629674-e913-4c01-ae53-ef4638d8f975",
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  webPubSubServiceOwner: "12cf5a90-567b-43ae-8102-96cf46c7d9b4",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  durableTaskDataContributor: "0ad04412-c4d5-4796-b79c-f76d14c8d402",
} as const;

/** App settings Flex Consumption rejects or ignores (runtime and deployment live in functionAppConfig). */
export const FLEX_FORBIDDEN_SETTINGS = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_WORKER_RUNTIME_VERSION",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD",
  // The connection-string form of host storage: we use identity (AzureWebJobsStorage__accountName).
  "AzureWebJobsStorage",
];

/**
 * siteConfig properties that Flex Consumption rejects with ARM error 51021 ("The following site configuration
 * property ... for Flex Consumption sites is invalid"): seen in Microsoft Q&A 2277522,
 * microsoft/azure-pipelines-tasks#21032, Azure/azure-functions-host#10643 and
 * Azure/terraform-azurerm-avm-res-web-site#283/#345/#360. FTP does not exist on Flex, so ftpsState goes too.
 */
export const FLEX_REJECTED_SITE_CONFIG = [
  "ftpsState",
  "use32BitWorkerProcess",
  "preWarmedInstanceCount",
  "netFrameworkVersion",
  "functionsRuntimeScaleMonitoringEnabled",
  "linuxFxVersion",
  "windowsFxVersion",
  "alwaysOn",
  "functionAppScaleLimit",
];

/**
 * Settings the template sets for the platform rather than for our code: the Functions host, the Durable and
 * Event Hubs extensions and Application Insights read them. Every other setting must be read by the code.
 */
export const PLATFORM_SETTINGS = [
  "AzureWebJobsStorage__accountName",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  // The Durable backend (a host.json override per deployment) and the Durable Task Scheduler's connection.
  "AzureFunctionsJobHost__extensions__durableTask__storageProvider__type",
  "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName",
  "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
];

/**
 * Environment variables the code may read that the platform itself sets on every Function App (they are not
 * app settings, so the template must not set them).
 */
export const PLATFORM_PROVIDED_ENV = [
  "WEBSITE_HOSTNAME",
  "WEBSITE_SITE_NAME",
  "WEBSITE_INSTANCE_ID",
  "REGION_NAME",
  "AZURE_FUNCTIONS_ENVIRONMENT",
  "CONTAINER_NAME",
  "WEBSITE_OWNER_NAME",
  "NODE_ENV",
];
