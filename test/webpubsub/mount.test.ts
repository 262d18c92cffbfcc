/** The local runtime's push choice: a configured Web PubSub wins, LOCAL_WEBPUBSUB=off turns it off, else the local service. */
import { describe, expect, it } from "vitest";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { startLocalPush, WEB_PUBSUB_SETTING } from "../../local-runtime/webpubsub/mount";

describe("startLocalPush", () => {
  it("starts the local service, sets WEB_PUBSUB_CONNECTION for the app, and clears it on stop", async () => {
    const env: NodeJS.ProcessEnv = {};
    const push = await startLocalPush({ env });
    try {
      expect(push.service).toBeDefined();
      expect(env[WEB_PUBSUB_SETTING]).toBe(push.service!.connectionString);
      // The setting is a connection string the real SDK takes.
      const client = new WebPubSubServiceClient(env[WEB_PUBSUB_SETTING]!, "matchmaking", { allowInsecureConnection: true });
      expect(await client.userExists("nobody")).toBe(false);
    } finally {
      await push.stop();
    }
    expect(env[WEB_PUBSUB_SETTING]).toBeUndefined();
  });

  it("leaves a configured service alone, and is off with LOCAL_WEBPUBSUB=off", async () => {
    for (const env of [
      { [WEB_PUBSUB_SETTING]: "Endpoint=https://x.webpubsub.azure.com;AccessKey=k;Version=1.0;" },
      { [`${WEB_PUBSUB_SETTING}__endpoint`]: "https://x" },
    ]) {
      const push = await startLocalPush({ env: { ...env } });
      expect(push.service).toBeUndefined();
      expect(push.describe).toMatch(/configured/);
    }
    const env: NodeJS.ProcessEnv = { LOCAL_WEBPUBSUB: "off" };
    const off = await startLocalPush({ env });
    expect(off.service).toBeUndefined();
    expect(env[WEB_PUBSUB_SETTING]).toBeUndefined();
  });
});
