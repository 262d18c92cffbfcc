/**
 * The product's push sender (src/messaging/webPubSub.ts) with the real @azure/web-pubsub: it reaches the
 * player's connections, and a failing service costs a log line, never the match (announce.ts pushes where the
 * match is made).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { startLocalWebPubSub, type LocalWebPubSub } from "../../local-runtime/webpubsub/service";
import { pushToPlayers, setPlayerPush, webPubSubClientFromSettings, webPubSubPush, WEB_PUBSUB_CONNECTION } from "../../src/messaging/webPubSub";
import { announce } from "../../src/usecases/announce";
import { requeuedSessions } from "../../src/usecases/serverChanges";

let service: LocalWebPubSub;
beforeAll(async () => {
  service = await startLocalWebPubSub();
});
afterAll(async () => {
  await service.stop();
});
afterEach(() => setPlayerPush(null));

const notice = (playerId: string) => ({
  playerId,
  type: "matched" as const,
  ticket: { playerId, ticketId: `t-${playerId}`, status: "matched", server: "1.2.3.4:5" },
});

describe("push sender", () => {
  it("sends {type, ticket} to the player's connections, and a client URL bound to the player", async () => {
    const push = webPubSubPush(webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: service.connectionString })!);
    const url = await push.clientUrl("p1", 60);
    const client = new WebPubSubClient(url);
    const received: unknown[] = [];
    let userId: string | undefined;
    client.on("connected", (e) => (userId = e.userId));
    client.on("server-message", (e) => received.push(e.message.data));
    await client.start();
    try {
      const result = await push.notify([notice("p1"), notice("p2")], () => undefined);
      expect(result).toEqual({ sent: 2, failed: 0 }); // p2 has no connection: the service accepts and drops it
      const deadline = Date.now() + 5_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(userId).toBe("p1");
      expect(received).toEqual([notice("p1")].map(({ type, ticket }) => ({ type, ticket })));
    } finally {
      client.stop();
    }
  });

  it("reads the connection string as the SDK does, and signs with the access key held as a KeyObject (no PEM parse per token)", async () => {
    const key = "a-local-access-key-0123456789";
    for (const cs of [
      `Endpoint=http://127.0.0.1:7081;AccessKey=${key};Version=1.0;`,
      `Endpoint=https://example.webpubsub.azure.com;AccessKey=${key};Version=1.0;Port=8443;`,
      `endpoint=example.webpubsub.azure.com;accesskey=${key};`,
    ]) {
      const ours = webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: cs })!;
      expect(ours.endpoint).toBe(new WebPubSubServiceClient(cs, "matchmaking").endpoint);
      // The SDK reads `credential.key` for every token it signs: a KeyObject, so jsonwebtoken skips createPrivateKey.
      expect((ours as unknown as { credential: { key: unknown } }).credential.key).toBeInstanceOf(KeyObject);
      const { token } = await ours.getClientAccessToken({ userId: "p9", expirationTimeInMinutes: 5 });
      const claims = jwt.verify(token, key, { algorithms: ["HS256"] }) as jwt.JwtPayload;
      expect(claims.sub).toBe("p9");
      expect(claims.aud).toBe(`${ours.endpoint.replace(/\/?$/, "/")}client/hubs/matchmaking`);
    }
    expect(() => webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: "AccessKey=k;" })).toThrow(/no Endpoint/);
    expect(() => webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: "Endpoint=http://x;" })).toThrow(/no AccessKey/);
  });

  it("a service that does not answer is logged and counted, never thrown", async () => {
    const gone = await startLocalWebPubSub();
    const connectionString = gone.connectionString;
    await gone.stop();
    const logs: string[] = [];
    const push = webPubSubPush(webPubSubClientFromSettings({ [WEB_PUBSUB_CONNECTION]: connectionString })!);
    await expect(push.notify([notice("a"), notice("b")], (m) => logs.push(m))).resolves.toEqual({ sent: 0, failed: 2 });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/2 of 2 notice\(s\) not sent .*fall back to polling/);
  });

  it("push off or a malformed setting: nothing is sent and nothing throws", async () => {
    setPlayerPush(undefined);
    await expect(pushToPlayers([notice("a")], () => undefined)).resolves.toEqual({ sent: 0, failed: 0 });
    setPlayerPush(null);
    const saved = process.env[WEB_PUBSUB_CONNECTION];
    process.env[WEB_PUBSUB_CONNECTION] = "not a connection string";
    const logs: string[] = [];
    try {
      await expect(pushToPlayers([notice("a")], (m) => logs.push(m))).resolves.toEqual({ sent: 0, failed: 1 });
      expect(logs[0]).toMatch(/push: not sent/);
    } finally {
      if (saved === undefined) delete process.env[WEB_PUBSUB_CONNECTION];
      else process.env[WEB_PUBSUB_CONNECTION] = saved;
    }
  });

  it("announce publishes every match-made and confirms it even when every push fails; the push names the match, serverChanged with previousServerId", async () => {
    const notified: { playerId: string; type: string }[] = [];
    setPlayerPush({
      notify: (notices) => {
        notified.push(...notices.map((n) => ({ playerId: n.playerId, type: n.type })));
        return Promise.reject(new Error("service down"));
      },
      clientUrl: () => Promise.reject(new Error("unused")),
    });
    const warnings: string[] = [];
    const log = { log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const sent: { body: { sessionId: string; previousServerId?: string } }[] = [];
    const confirmed: string[] = [];
    const ports = {
      settings: { matchMadeHub: "match-made" } as Parameters<typeof announce>[0]["settings"],
      store: { confirmAnnounced: (_r: string, ids: string[]) => void confirmed.push(...ids) } as unknown as Parameters<typeof announce>[0]["store"],
      publisher: { send: (_hub: string, events: { body: unknown }[]) => void sent.push(...(events as typeof sent)) } as unknown as Parameters<
        typeof announce
      >[0]["publisher"],
      log,
    };
    const assignment = (sessionId: string, players: string[]) => ({
      sessionId,
      serverId: "srv-2",
      address: "1.2.3.4:5",
      players: players.map((playerId) => ({ playerId, ticketId: `t-${playerId}` })),
      mode: "duel",
      region: "westeurope",
      assignedAtMs: Date.now(),
    });
    requeuedSessions.note("westeurope.2", "srv-1", Date.now());
    const result = await announce(ports, "westeurope", [assignment("westeurope.1", ["a", "b"]), assignment("westeurope.2", ["c", "d"])]);
    expect(result).toEqual({ sent: 2, failed: 0 });
    expect(confirmed).toEqual(["westeurope.1", "westeurope.2"]);
    expect(sent.map((e) => [e.body.sessionId, e.body.previousServerId])).toEqual([
      ["westeurope.1", undefined],
      ["westeurope.2", "srv-1"],
    ]);
    expect(notified).toEqual([
      { playerId: "a", type: "matched" },
      { playerId: "b", type: "matched" },
      { playerId: "c", type: "serverChanged" },
      { playerId: "d", type: "serverChanged" },
    ]);
    expect(warnings.some((w) => /push: not sent/.test(w))).toBe(true);
    // Announced: the next announcement of that session is a plain match again.
    expect(requeuedSessions.previousServerOf("westeurope.2")).toBeUndefined();
  });
});
