/**
 * The local Web PubSub service against the unmodified SDKs: @azure/web-pubsub (service REST with the
 * access-key JWT) and @azure/web-pubsub-client (json and reliable JSON subprotocols), plus raw frames
 * where the SDK hides what the service answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { WebPubSubClient, WebPubSubJsonProtocol, type OnServerDataMessageArgs, type OnGroupDataMessageArgs } from "@azure/web-pubsub-client";
import jwt from "jsonwebtoken";
import { createHmac } from "node:crypto";
import WebSocket from "ws";
import { startLocalWebPubSub, type LocalWebPubSub } from "../../local-runtime/webpubsub/service";

const HUB = "matchmaking";
let service: LocalWebPubSub;
let rest: WebPubSubServiceClient;
const started: WebPubSubClient[] = [];

beforeAll(async () => {
  service = await startLocalWebPubSub({ recoveryWindowMs: 5_000 });
  // The service is plain http locally: the SDK refuses that unless told (the product does the same for http:// endpoints).
  rest = new WebPubSubServiceClient(service.connectionString, HUB, { allowInsecureConnection: true });
});
afterAll(async () => {
  for (const c of started) c.stop();
  await service.stop();
});

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A started client that records what it receives. */
async function client(userId: string, opts: { roles?: string[]; protocol?: "json" | "reliable" } = {}) {
  const { url } = await rest.getClientAccessToken({ userId, roles: opts.roles });
  // No message retries: a refused joinGroup would otherwise be retried three times, a second apart.
  const c = new WebPubSubClient(url, { messageRetryOptions: { maxRetries: 0 }, ...(opts.protocol === "json" ? { protocol: WebPubSubJsonProtocol() } : {}) });
  const server: OnServerDataMessageArgs["message"][] = [];
  const group: OnGroupDataMessageArgs["message"][] = [];
  const connected: { connectionId: string; userId?: string }[] = [];
  const disconnected: unknown[] = [];
  c.on("server-message", (e) => server.push(e.message));
  c.on("group-message", (e) => group.push(e.message));
  c.on("connected", (e) => connected.push(e));
  c.on("disconnected", (e) => disconnected.push(e));
  started.push(c);
  await c.start();
  await until(() => connected.length > 0, "connected");
  return { c, server, group, connected, disconnected, url };
}

function connectionOf(id: string) {
  const c = service.hub(HUB).connections.get(id);
  if (!c) throw new Error(`no connection ${id}`);
  return c;
}

describe("service REST auth", () => {
  it("accepts the SDK's access-key JWT and refuses a wrong key, a missing token and a token for another URL", async () => {
    await rest.sendToAll({ hello: 1 });
    const wrongKey = new WebPubSubServiceClient(`Endpoint=${service.endpoint};AccessKey=${Buffer.from("x".repeat(32)).toString("base64")};Version=1.0;`, HUB, {
      allowInsecureConnection: true,
    });
    await expect(wrongKey.sendToUser("p1", { hello: 1 })).rejects.toMatchObject({ statusCode: 401 });

    const path = `/api/hubs/${HUB}/users/p1/:send?api-version=2024-12-01`;
    const post = (headers: Record<string, string>) =>
      fetch(`${service.endpoint}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: "{}" });
    expect((await post({})).status).toBe(401);
    const otherUrl = jwt.sign({}, service.accessKey, {
      audience: `${service.endpoint}/api/hubs/${HUB}/users/p2/:send?api-version=2024-12-01`,
      expiresIn: "1h",
      algorithm: "HS256",
    });
    const refused = await post({ Authorization: `Bearer ${otherUrl}` });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: "Unauthorized" });
    const expired = jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, service.accessKey, { audience: `${service.endpoint}${path}`, algorithm: "HS256" });
    expect((await post({ Authorization: `Bearer ${expired}` })).status).toBe(401);
    const right = jwt.sign({}, service.accessKey, { audience: `${service.endpoint}${path}`, expiresIn: "1h", algorithm: "HS256" });
    expect((await post({ Authorization: `Bearer ${right}` })).status).toBe(202);
  });

  it("checks the JWT as HS256 with the key: other algorithms, a forged or re-spelt signature, a malformed token, nbf ahead and a non-numeric exp are refused", async () => {
    const path = `/api/hubs/${HUB}/users/p1/:send?api-version=2024-12-01`;
    const aud = `${service.endpoint}${path}`;
    const post = (token: string) =>
      fetch(aud, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: "{}" }).then((r) => r.status);
    const right = jwt.sign({}, service.accessKey, { audience: aud, expiresIn: "1h", algorithm: "HS256" });
    expect(await post(right)).toBe(202);
    const [head, body, sig] = right.split(".") as [string, string, string];
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    expect(await post(jwt.sign({}, service.accessKey, { audience: aud, expiresIn: "1h", algorithm: "HS512" }))).toBe(401);
    expect(await post(`${b64({ alg: "none", typ: "JWT" })}.${body}.`)).toBe(401);
    // The last base64url character of a 32-byte HMAC carries 2 unused bits: another spelling decodes to the same bytes.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig.at(-1)!);
    const respelt = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelt, "base64url")).toEqual(Buffer.from(sig, "base64url"));
    expect(await post(`${head}.${body}.${respelt}`)).toBe(401);
    expect(await post(`${head}.${b64({ aud, exp: 4102444800, admin: true })}.${sig}`)).toBe(401);
    expect(await post(`${head}.${body}`)).toBe(401);
    expect(await post(jwt.sign({ nbf: Math.floor(Date.now() / 1000) + 600 }, service.accessKey, { audience: aud, algorithm: "HS256" }))).toBe(401);
    const hs256 = (claims: object) => {
      const signed = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
      return `${signed}.${createHmac("sha256", service.accessKey).update(signed).digest("base64url")}`;
    };
    expect(await post(hs256({ aud }))).toBe(202);
    expect(await post(hs256({ aud, exp: "later" }))).toBe(401);
  });

  it("refuses a client whose access token is signed with another key or for another hub", async () => {
    const { url } = await rest.getClientAccessToken({ userId: "p1" });
    const token = new URL(url).searchParams.get("access_token")!;
    const forged = jwt.sign({ sub: "p1" }, "another-key", { audience: `${service.endpoint}/client/hubs/${HUB}`, algorithm: "HS256" });
    const otherHub = jwt.sign({ sub: "p1" }, service.accessKey, { audience: `${service.endpoint}/client/hubs/other`, algorithm: "HS256" });
    const status = (t: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${service.endpoint.replace("http", "ws")}/client/hubs/${HUB}?access_token=${t}`, "json.webpubsub.azure.v1");
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
      });
    expect(await status(forged)).toBe(401);
    expect(await status(otherHub)).toBe(401);
    expect(await status(token)).toBe(101);
  });
});

describe("client protocol with the real @azure/web-pubsub-client", () => {
  it("connects as the token's user, gets sendToUser messages as JSON with sequence ids, and user/connection existence follows", async () => {
    const p = await client("alice");
    expect(p.connected[0]!.userId).toBe("alice");
    expect(await rest.userExists("alice")).toBe(true);
    expect(await rest.userExists("nobody")).toBe(false);
    const id = p.connected[0]!.connectionId;
    expect(await rest.connectionExists(id)).toBe(true);

    await rest.sendToUser("alice", { type: "matched", ticket: { server: "10.0.0.1:7777" } });
    await rest.sendToUser("alice", "plain text", { contentType: "text/plain" });
    await until(() => p.server.length === 2, "two messages");
    expect(p.server[0]).toMatchObject({ kind: "serverData", dataType: "json", data: { type: "matched", ticket: { server: "10.0.0.1:7777" } }, sequenceId: 1 });
    expect(p.server[1]).toMatchObject({ dataType: "text", data: "plain text", sequenceId: 2 });
    // The client acknowledges within a second; the service then holds nothing.
    await until(() => connectionOf(id).unackedCount === 0, "sequenceAck");

    await rest.closeConnection(id, { reason: "bye" });
    await until(() => p.disconnected.length > 0, "disconnected");
    expect(await rest.connectionExists(id)).toBe(false);
  });

  it("the json (non-reliable) protocol gets messages without sequence ids", async () => {
    const p = await client("bob", { protocol: "json" });
    await rest.sendToUser("bob", { n: 1 });
    await until(() => p.server.length === 1, "a message");
    expect(p.server[0]).toMatchObject({ data: { n: 1 } });
    expect(p.server[0]!.sequenceId).toBeUndefined();
  });

  it("joinGroup and sendToGroup are acknowledged with the roles, refused without; REST group operations work", async () => {
    const allowed = await client("carol", { roles: ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"] });
    const listener = await client("dave", { roles: ["webpubsub.joinLeaveGroup.lobby"] });
    const refused = await client("erin");
    await expect(allowed.c.joinGroup("lobby")).resolves.toMatchObject({ isDuplicated: false });
    await expect(listener.c.joinGroup("lobby")).resolves.toBeDefined();
    await expect(listener.c.joinGroup("other")).rejects.toMatchObject({ errorDetail: { name: "Forbidden" } });
    await expect(refused.c.joinGroup("lobby")).rejects.toMatchObject({ errorDetail: { name: "Forbidden" } });
    expect(await rest.groupExists("lobby")).toBe(true);

    await allowed.c.sendToGroup("lobby", { hi: "all" }, "json", { noEcho: true });
    await until(() => listener.group.length === 1, "group message");
    expect(listener.group[0]).toMatchObject({ group: "lobby", data: { hi: "all" }, fromUserId: "carol" });
    expect(allowed.group).toHaveLength(0); // noEcho

    const erinId = refused.connected[0]!.connectionId;
    await rest.group("lobby").addConnection(erinId);
    // A REST send to a group comes from the server, not from a group member.
    await rest.group("lobby").sendToAll({ to: "lobby" });
    await until(() => refused.server.length === 1 && listener.server.length === 1 && allowed.server.length === 1, "server message to the group");
    expect(refused.server[0]).toMatchObject({ kind: "serverData", data: { to: "lobby" } });
    await rest.group("lobby").removeConnection(erinId);
    await rest.group("lobby").removeUser("dave");
    await rest.group("lobby").sendToAll({ again: true });
    await until(() => allowed.server.length === 2, "carol gets the second message");
    expect(refused.server).toHaveLength(1);
    expect(listener.server).toHaveLength(1);
  });

  it("a dropped socket is recovered with the same connection and every message sent meanwhile, once", async () => {
    const p = await client("frank");
    const id = p.connected[0]!.connectionId;
    await rest.sendToUser("frank", { n: 1 });
    await until(() => p.server.length === 1, "first message");
    const recoveries = service.counters.recoveries;
    connectionOf(id).socket!.terminate(); // the network drops
    await rest.sendToUser("frank", { n: 2 });
    await rest.sendToUser("frank", { n: 3 });
    await until(() => p.server.length === 3, "messages sent while disconnected", 10_000);
    expect(p.server.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3]);
    expect(service.counters.recoveries).toBe(recoveries + 1);
    expect(p.connected).toHaveLength(1); // same connection: the SDK does not announce a new one
    expect(await rest.connectionExists(id)).toBe(true);
    expect(p.disconnected).toHaveLength(0);
  });

  it("a recovery with a wrong reconnection token is closed with 1008, and the client starts a new connection", async () => {
    const { url } = await rest.getClientAccessToken({ userId: "gina" });
    const p = await client("gina");
    const id = p.connected[0]!.connectionId;
    const recoverUrl = `${url}&awps_connection_id=${id}&awps_reconnection_token=wrong`;
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(recoverUrl, "json.reliable.webpubsub.azure.v1");
      ws.on("close", (c) => resolve(c));
    });
    expect(code).toBe(1008);
    expect(await rest.connectionExists(id)).toBe(true); // a wrong token does not hurt the real connection
  });

  it("answers a repeated ackId with Duplicate, a ping with pong, and drops a client that breaks the protocol", async () => {
    const { url } = await rest.getClientAccessToken({ userId: "hank", roles: ["webpubsub.joinLeaveGroup"] });
    const ws = new WebSocket(url, "json.reliable.webpubsub.azure.v1");
    const frames: any[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on("open", r));
    ws.send(JSON.stringify({ type: "joinGroup", group: "g", ackId: 7 }));
    ws.send(JSON.stringify({ type: "joinGroup", group: "g", ackId: 7 }));
    ws.send(JSON.stringify({ type: "ping" }));
    await until(() => frames.length === 4, "connected, two acks and a pong");
    expect(frames[0]).toMatchObject({ type: "system", event: "connected", userId: "hank" });
    expect(typeof frames[0].reconnectionToken).toBe("string");
    expect(frames[1]).toEqual({ type: "ack", ackId: 7, success: true });
    expect(frames[2]).toMatchObject({ type: "ack", ackId: 7, success: false, error: { name: "Duplicate" } });
    expect(frames[3]).toEqual({ type: "pong" });
    const closed = new Promise<number>((r) => ws.on("close", (c) => r(c)));
    ws.send("not json");
    expect(await closed).toBe(1008);
    expect(frames.at(-1)).toMatchObject({ type: "system", event: "disconnected" });
  });
});
