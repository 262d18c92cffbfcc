/**
 * Checks shared by the single-region and multi-region template tests: apiVersions against the verified
 * allow-list, and the security defaults of one regional stamp asserted on its evaluated resources.
 */
import { expect } from "vitest";
import { appSettingsOf, checkTemplate, collectExpressions, walkAst, type DeclaredResource, type Template } from "./arm";
import { API_VERSIONS, FLEX_FORBIDDEN_SETTINGS, FLEX_REJECTED_SITE_CONFIG, ROLE_DEFINITIONS } from "./support";

export function expectCurrentApiVersions(template: Template, label: string): void {
  const wrong: string[] = [];
  for (const r of template.resources) {
    const allowed = API_VERSIONS[r.type];
    if (!allowed) wrong.push(`${label}: resource type ${r.type} is not in the verified allow-list`);
    else if (r.apiVersion !== allowed) wrong.push(`${label}: ${r.type}@${r.apiVersion}, expected ${allowed}`);
  }
  // reference(resourceId('Type', ...), 'apiVersion') must use the same verified version as the resource.
  for (const e of collectExpressions(template, "$", (path) => /\.properties\.template$/.test(path))) {
    walkAst(e.ast, (n) => {
      if (n.kind !== "call" || n.name.toLowerCase() !== "reference" || n.args.length < 2) return;
      const target = n.args[0]!;
      const version = n.args[1]!;
      if (target.kind === "call" && target.name.toLowerCase() === "resourceid" && target.args[0]?.kind === "str" && version.kind === "str") {
        const type = target.args[0].value;
        if (API_VERSIONS[type] !== version.value)
          wrong.push(`${label} ${e.path}: reference() to ${type} uses apiVersion ${version.value}, expected ${API_VERSIONS[type]}`);
      }
    });
  }
  expect(wrong).toEqual([]);
}

function one(resources: Map<DeclaredResource, Record<string, unknown>>, type: string): Record<string, unknown> {
  const found = all(resources, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}
/** The resources of a type that this deployment creates (a resource whose condition is false is not deployed). */
export function all(resources: Map<DeclaredResource, Record<string, unknown>>, type: string): Record<string, unknown>[] {
  return [...resources].filter(([d, body]) => d.type === type && body.condition !== false).map(([, body]) => body);
}
export const props = (r: Record<string, unknown>) => r.properties as Record<string, any>;

/** The security defaults of a stamp, asserted on the evaluated resources. Used for the multi-region stamps too. */
export function expectSecureStamp(template: Template, paramValues: Record<string, unknown> = {}): void {
  const { problems, evaluated, outputs } = checkTemplate(template, paramValues);
  expect(problems).toEqual([]);

  const plan = one(evaluated, "Microsoft.Web/serverfarms");
  expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
  expect(props(plan).reserved).toBe(true);

  const site = one(evaluated, "Microsoft.Web/sites");
  expect(site.kind).toBe("functionapp,linux");
  expect(site.identity).toEqual({ type: "SystemAssigned" });
  expect(props(site).httpsOnly).toBe(true);
  const siteConfig = props(site).siteConfig;
  expect(siteConfig.minTlsVersion).toBe("1.2");
  expect(siteConfig.scmMinTlsVersion).toBe("1.2");
  for (const rejected of FLEX_REJECTED_SITE_CONFIG) expect(siteConfig, `siteConfig.${rejected} is rejected by Flex Consumption`).not.toHaveProperty(rejected);
  const fac = props(site).functionAppConfig;
  expect(fac.runtime).toEqual({ name: "node", version: "22" });
  expect(fac.deployment.storage.type).toBe("blobContainer");
  expect(fac.deployment.storage.authentication).toEqual({ type: "SystemAssignedIdentity" });
  expect(fac.scaleAndConcurrency.maximumInstanceCount).toBeGreaterThan(0);
  expect([512, 2048, 4096]).toContain(fac.scaleAndConcurrency.instanceMemoryMB);

  const settings = appSettingsOf(site);
  for (const forbidden of FLEX_FORBIDDEN_SETTINGS) expect(settings.has(forbidden), `${forbidden} must not be set on Flex Consumption`).toBe(false);
  for (const [name, value] of settings) {
    expect(String(value), `${name} must not carry a key`).not.toMatch(/AccountKey=|SharedAccessKey=|password=/i);
  }
  expect(settings.get("AzureWebJobsStorage__accountName")).toBeTruthy();

  // Publishing only with Entra ID (az CLI, OneDeploy): basic auth for the deployment endpoint is off.
  const policies = [...evaluated].filter(([d]) => d.type === "Microsoft.Web/sites/basicPublishingCredentialsPolicies");
  expect(policies.map(([d]) => d.name.split("/").pop())).toEqual(["scm"]);
  for (const [, policy] of policies) expect(props(policy).allow).toBe(false);

  const storage = one(evaluated, "Microsoft.Storage/storageAccounts");
  expect(props(storage)).toMatchObject({
    minimumTlsVersion: "TLS1_2",
    supportsHttpsTrafficOnly: true,
    allowBlobPublicAccess: false,
    allowSharedKeyAccess: false,
    defaultToOAuthAuthentication: true,
  });
  for (const c of all(evaluated, "Microsoft.Storage/storageAccounts/blobServices/containers")) expect(props(c).publicAccess).toBe("None");

  const ehns = one(evaluated, "Microsoft.EventHub/namespaces");
  expect((ehns.sku as { name: string }).name).toBe("Standard");
  expect(props(ehns)).toMatchObject({ minimumTlsVersion: "1.2", disableLocalAuth: true });

  const redis = one(evaluated, "Microsoft.Cache/redisEnterprise");
  expect(props(redis).minimumTlsVersion).toBe("1.2");
  expect(props(redis).publicNetworkAccess, "required by the 2025-07-01 API").toBeDefined();
  const db = one(evaluated, "Microsoft.Cache/redisEnterprise/databases");
  expect(props(db)).toMatchObject({
    clientProtocol: "Encrypted",
    port: 10000,
    clusteringPolicy: "OSSCluster",
    accessKeysAuthentication: "Disabled",
    evictionPolicy: "NoEviction",
  });
  const apa = one(evaluated, "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments");
  expect(props(apa).accessPolicyName).toBe("default");
  expect(String(props(apa).user.objectId)).toMatch(/^<reference:.*\.identity\.principalId>$/);

  // The ticket signing keys live in Key Vault (RBAC, soft delete); the app setting only references them.
  const vault = one(evaluated, "Microsoft.KeyVault/vaults");
  expect(props(vault)).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true, enabledForTemplateDeployment: false });
  expect(String(settings.get("TICKET_SIGNING_KEYS"))).toMatch(
    /^@Microsoft\.KeyVault\(SecretUri=https:\/\/[a-z0-9-]{3,24}\.vault\.azure\.net\/secrets\/ticket-signing-keys\/\)$/,
  );
  expect(settings.has("TICKET_SIGNING_KEY"), "the key itself is never an app setting").toBe(false);

  const ai = one(evaluated, "Microsoft.Insights/components");
  expect(props(ai).DisableLocalAuth).toBe(true);
  expect(String(props(ai).WorkspaceResourceId)).toMatch(/Microsoft\.OperationalInsights\/workspaces\//);

  // The identity holds exactly the data-plane roles it needs, each on the resource it needs it on.
  const assignments = all(evaluated, "Microsoft.Authorization/roleAssignments").map((r) => ({
    role: String(props(r).roleDefinitionId).split("/").pop(),
    scope: String(r.scope),
    principal: String(props(r).principalId),
    type: props(r).principalType,
  }));
  const expected: [string, RegExp][] = [
    [ROLE_DEFINITIONS.storageBlobDataOwner, /^Microsoft\.Storage\/storageAccounts\//],
    [ROLE_DEFINITIONS.storageQueueDataContributor, /^Microsoft\.Storage\/storageAccounts\//],
    [ROLE_DEFINITIONS.storageTableDataContributor, /^Microsoft\.Storage\/storageAccounts\//],
    [ROLE_DEFINITIONS.eventHubsDataSender, /^Microsoft\.EventHub\/namespaces\//],
    [ROLE_DEFINITIONS.eventHubsDataReceiver, /^Microsoft\.EventHub\/namespaces\//],
    [ROLE_DEFINITIONS.monitoringMetricsPublisher, /^Microsoft\.Insights\/components\//],
    [ROLE_DEFINITIONS.webPubSubServiceOwner, /^Microsoft\.SignalRService\/webPubSub\//],
    [ROLE_DEFINITIONS.keyVaultSecretsUser, /^Microsoft\.KeyVault\/vaults\//],
    // The Durable Task Scheduler backend: data access to the scheduler, by identity (no connection secret).
    ...(paramValues.durableBackend === "durableTaskScheduler"
      ? ([[ROLE_DEFINITIONS.durableTaskDataContributor, /^Microsoft\.DurableTask\/schedulers\//]] as [string, RegExp][])
      : []),
  ];
  expect(assignments.map((a) => a.role).sort()).toEqual(expected.map(([r]) => r).sort());
  for (const [role, scope] of expected) {
    const a = assignments.find((x) => x.role === role)!;
    expect(a.scope).toMatch(scope);
    expect(a.principal).toMatch(/^<reference:.*\.identity\.principalId>$/);
    expect(a.type).toBe("ServicePrincipal");
  }

  // Outputs: no secure types, nothing derived from a secure parameter, no connection strings or keys.
  const secureParams = Object.entries(template.parameters ?? {})
    .filter(([, p]) => /^secure/i.test(p.type))
    .map(([k]) => k);
  for (const [name, o] of Object.entries(template.outputs ?? {})) {
    expect(o.type.toLowerCase(), `output ${name}`).not.toMatch(/^secure/);
    for (const e of collectExpressions(o, `$.outputs.${name}`)) {
      walkAst(e.ast, (n) => {
        if (n.kind === "call" && n.name.toLowerCase() === "parameters" && n.args[0]?.kind === "str")
          expect(secureParams, `output ${name} exposes a secure parameter`).not.toContain(n.args[0].value);
        if (n.kind === "call") expect(n.name.toLowerCase(), `output ${name}`).not.toMatch(/^list/);
        if (n.kind === "prop") expect(n.name.toLowerCase(), `output ${name}`).not.toMatch(/connectionstring|key|secret|password/);
      });
    }
  }
  expect(JSON.stringify(outputs)).not.toMatch(/AccountKey|SharedAccessKey|InstrumentationKey/);
}

/**
 * App settings as the platform resolves them: a Key Vault reference
 * `@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>/)` becomes the value of the
 * secret the template writes into that vault (undefined when the template does not write it).
 */
export function resolveKeyVaultReferences(settings: Map<string, unknown>, evaluated: Map<DeclaredResource, Record<string, unknown>>): Map<string, unknown> {
  const secrets = new Map<string, unknown>();
  for (const [d, body] of evaluated) {
    if (d.type === "Microsoft.KeyVault/vaults/secrets" && body.condition !== false) secrets.set(d.name.toLowerCase(), props(body).value);
  }
  const resolved = new Map(settings);
  for (const [name, value] of settings) {
    const m = /^@Microsoft\.KeyVault\(SecretUri=https:\/\/([a-z0-9-]+)\.vault\.azure\.net\/secrets\/([A-Za-z0-9-]+)\/?\)$/.exec(String(value));
    if (m) resolved.set(name, secrets.get(`${m[1]}/${m[2]}`.toLowerCase()));
  }
  return resolved;
}
