/**
 * Push on Azure: every stamp (azuredeploy.json alone and each stamp of the multi-region template) has an
 * Azure Web PubSub with the hub the code sends to, reached by the function app's identity only (the role
 * "Web PubSub Service Owner" on that resource, no access keys), and the identity-based setting the sender
 * reads.
 */
import { describe, expect, it } from "vitest";
import { appSettingsOf, checkTemplate, type DeclaredResource, type Template } from "./arm";
import { MULTI_TEMPLATE, ROLE_DEFINITIONS, STAMP_TEMPLATE, readTemplate, valuesOf } from "./support";
import { props } from "./stampChecks";
import { PUSH_HUB, WEB_PUBSUB_CONNECTION, webPubSubClientFromSettings } from "../../src/messaging/webPubSub";

function expectPush(template: Template, values: Record<string, unknown> = {}) {
  const { problems, evaluated } = checkTemplate(template, values);
  expect(problems).toEqual([]);
  const of = (type: string) => [...evaluated].filter(([d]: [DeclaredResource, unknown]) => d.type === type).map(([, body]) => body);
  const [wps, ...more] = of("Microsoft.SignalRService/webPubSub");
  expect(more).toHaveLength(0);
  expect(wps!.kind).toBe("WebPubSub");
  expect(props(wps!)).toMatchObject({ disableLocalAuth: true, disableAadAuth: false });
  const hubs = of("Microsoft.SignalRService/webPubSub/hubs");
  expect(hubs.map((h) => String(h.name).split("/")[1])).toEqual([PUSH_HUB]);
  expect(props(hubs[0]!).anonymousConnectPolicy).toBe("deny");

  const owner = of("Microsoft.Authorization/roleAssignments").filter((r) => String(props(r).roleDefinitionId).endsWith(ROLE_DEFINITIONS.webPubSubServiceOwner));
  expect(owner).toHaveLength(1);
  expect(String(owner[0]!.scope)).toBe(`Microsoft.SignalRService/webPubSub/${String(wps!.name)}`);
  const site = of("Microsoft.Web/sites")[0]!;
  expect(String(props(owner[0]!).principalId)).toBe(`<reference:${String(site.name)}.identity.principalId>`);

  const settings = appSettingsOf(site);
  expect(settings.has(WEB_PUBSUB_CONNECTION), "no connection string (keys are disabled)").toBe(false);
  const endpoint = String(settings.get(`${WEB_PUBSUB_CONNECTION}__endpoint`));
  expect(endpoint).toBe(`https://<reference:${String(wps!.name)}.hostName>`);
  // The sender turns exactly this setting into an identity-based client for the hub.
  const client = webPubSubClientFromSettings({ [`${WEB_PUBSUB_CONNECTION}__endpoint`]: "https://mm-wps-x.webpubsub.azure.com" });
  expect(client?.hubName).toBe(PUSH_HUB);
  expect(client?.endpoint).toBe("https://mm-wps-x.webpubsub.azure.com");
}

describe("push on Azure (Web PubSub)", () => {
  it("azuredeploy.json: the service, hub matchmaking, the app's Service Owner role and WEB_PUBSUB_CONNECTION__endpoint", () => {
    expectPush(readTemplate(STAMP_TEMPLATE));
  });

  it("every stamp of the multi-region template has its own", () => {
    const { problems, evaluated } = checkTemplate(readTemplate(MULTI_TEMPLATE));
    expect(problems).toEqual([]);
    const stamps = [...evaluated].filter(([d]) => d.type === "Microsoft.Resources/deployments");
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    for (const [, body] of stamps) {
      const p = body.properties as { template: Template; parameters: Record<string, { value: unknown }> };
      expectPush(p.template, valuesOf(p.parameters));
    }
  });

  it("without either setting push is off", () => {
    expect(webPubSubClientFromSettings({})).toBeUndefined();
  });
});
