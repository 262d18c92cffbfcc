/**
 * The in-process transport of the local Web PubSub service (local-runtime/webpubsub/inProcessClient.ts): the
 * app's real @azure/web-pubsub sender, given it as its HttpClient, reaches the local service with no socket and
 * gets the answers HTTP would give (delivery, the access-key check, errors); other URLs are refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { startLocalWebPubSub, type LocalWebPubSub } from "../../local-runtime/webpubsub/service";
import { inProcessClient, inProcessPushWanted } from "../../local-runtime/webpubsub/inProcessClient";
import { playerPush, setPlayerPush, setPushHttpClient, webPubSubClientFromSettings, webPubSubPush, WEB_PUBSUB_CONNECTION } from "../../src/messaging/webPubSub";

let service: LocalWebPubSub;
beforeAll(async () => {
  service = await startLocalWebPubSub();
});
afterAll(async () => {
  await service.stop();
});
afterEach(() => {
  setPushHttpClient(undefined);
  setPlayerPush(null);
});

const notice = (playerId: string) => ({ playerId, type: "matched" as const, ticket: { playerId, ticketId: `t-${playerId}`, status: "matched" } });

describe("the in-process Web PubSub transport", () => {
  it("delivers the app's sends to exactly the named user's connections with no HTTP request, and answers as over HTTP", async () => {
    setPushHttpClient(inProcessClient(service));
    const push = webPubSubPush(webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: service.connectionString })!);
    const received: Record<string, unknown[]> = { a: [], b: [] };
    const clients = await Promise.all(
      ["a", "b"].map(async (user) => {
        const c = new WebPubSubClient(await push.clientUrl(user, 5));
        c.on("server-message", (e) => received[user]!.push(e.message.data));
        await c.start();
        return c;
      }),
    );
    try {
      const before = { ...service.counters };
      await expect(push.notify([notice("a"), notice("nobody")], () => undefined)).resolves.toEqual({ sent: 2, failed: 0 });
      const deadline = Date.now() + 5_000;
      while (received.a!.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      expect(received).toEqual({ a: [{ type: "matched", ticket: notice("a").ticket }], b: [] });
      expect(service.counters.restCalls - before.restCalls).toBe(2);
      expect(service.counters.restCallsOverHttp - before.restCallsOverHttp).toBe(0);
    } finally {
      for (const c of clients) c.stop();
    }
  });

  it("the access-key check and the REST errors hold in process: a wrong key is 401, a bad request 400, a HEAD 404", async () => {
    const options = { allowInsecureConnection: true, httpClient: inProcessClient(service), retryOptions: { maxRetries: 0 } };
    const wrongKey = new WebPubSubServiceClient(
      `Endpoint=${service.endpoint};AccessKey=${Buffer.from("x".repeat(32)).toString("base64")};Version=1.0;`,
      "matchmaking",
      options,
    );
    await expect(wrongKey.sendToUser("a", { hello: 1 })).rejects.toMatchObject({ statusCode: 401 });
    const rest = new WebPubSubServiceClient(service.connectionString, "matchmaking", options);
    await expect(rest.grantPermission("no-such-connection", "joinLeaveGroup")).rejects.toMatchObject({ statusCode: 404 });
    await expect(rest.sendToAll("x", { contentType: "text/plain", filter: "userId eq 'a'" })).rejects.toMatchObject({ statusCode: 400 });
    expect(await rest.userExists("nobody")).toBe(false);
    const before = service.counters.restCallsOverHttp;
    await rest.sendToAll("plain text", { contentType: "text/plain" });
    expect(service.counters.restCallsOverHttp).toBe(before);
  });

  it("refuses a URL that is not the local service's, and is installed by setPushHttpClient until removed", async () => {
    const elsewhere = new WebPubSubServiceClient("Endpoint=http://127.0.0.1:9;AccessKey=k;Version=1.0;", "matchmaking", {
      allowInsecureConnection: true,
      httpClient: inProcessClient(service),
      retryOptions: { maxRetries: 0 },
    });
    await expect(elsewhere.sendToUser("a", { hello: 1 })).rejects.toThrow(/serves http:\/\/127\.0\.0\.1:\d+ only, not http:\/\/127\.0\.0\.1:9/);

    const saved = process.env[WEB_PUBSUB_CONNECTION];
    process.env[WEB_PUBSUB_CONNECTION] = service.connectionString;
    try {
      setPushHttpClient(inProcessClient(service));
      const before = { ...service.counters };
      await playerPush()!.notify([notice("a")], () => undefined);
      expect(service.counters.restCalls - before.restCalls).toBe(1);
      expect(service.counters.restCallsOverHttp - before.restCallsOverHttp).toBe(0);
      setPushHttpClient(undefined);
      await playerPush()!.notify([notice("a")], () => undefined);
      expect(service.counters.restCallsOverHttp - before.restCallsOverHttp).toBe(1);
    } finally {
      if (saved === undefined) delete process.env[WEB_PUBSUB_CONNECTION];
      else process.env[WEB_PUBSUB_CONNECTION] = saved;
    }
  });

  it("LOCAL_WEBPUBSUB_TRANSPORT: inProcess (default) or http; anything else is refused", () => {
    expect(inProcessPushWanted({})).toBe(true);
    expect(inProcessPushWanted({ LOCAL_WEBPUBSUB_TRANSPORT: "inProcess" })).toBe(true);
    expect(inProcessPushWanted({ LOCAL_WEBPUBSUB_TRANSPORT: "http" })).toBe(false);
    expect(() => inProcessPushWanted({ LOCAL_WEBPUBSUB_TRANSPORT: "carrier-pigeon" })).toThrow(/must be "inProcess" or "http"/);
  });
});
