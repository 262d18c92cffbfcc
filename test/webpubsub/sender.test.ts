/**
 * The product's push sender (src/messaging/webPubSub.ts) with the real @azure/web-pubsub: it reaches the
 * player's connections, and a failing service costs a log line, never the match.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { startLocalWebPubSub, type LocalWebPubSub } from "../../local-runtime/webpubsub/service";
import { pushToPlayers, setPlayerPush, webPubSubClientFromSettings, webPubSubPush, WEB_PUBSUB_CONNECTION } from "../../src/messaging/webPubSub";
import { deliverMatches } from "../../src/usecases/deliverMatches";

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

  it("deliverMatches raises ServerReady for every player even when every push fails", async () => {
    setPlayerPush({
      notify: () => Promise.reject(new Error("service down")),
      clientUrl: () => Promise.reject(new Error("unused")),
    });
    const raised: string[] = [];
    const warnings: string[] = [];
    const log = { log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const store = { deadLetter: () => Promise.resolve() } as unknown as Parameters<typeof deliverMatches>[0]["store"];
    const matchRequests = {
      status: () => Promise.resolve(null),
      start: () => Promise.resolve(true),
      cancel: () => Promise.resolve(true),
      serverReady: (playerId: string) => {
        raised.push(playerId);
        return Promise.resolve(true);
      },
    };
    const msg = {
      sessionId: "westeurope.1",
      serverId: "srv-1",
      address: "1.2.3.4:5",
      players: [
        { playerId: "a", ticketId: "ta" },
        { playerId: "b", ticketId: "tb" },
      ],
      mode: "duel",
      region: "westeurope",
      assignedAt: new Date().toISOString(),
    };
    const result = await deliverMatches({ store, log, matchRequests }, [msg]);
    expect(result).toMatchObject({ raised: 2, rejected: 0 });
    expect(raised.sort()).toEqual(["a", "b"]);
    expect(warnings.some((w) => /push: not sent/.test(w))).toBe(true);
  });
});
