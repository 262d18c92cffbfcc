/**
 * The local host against attacks on the machine it runs on (issue 9): the Durable webhooks need the system
 * key, a huge chunked body is refused while it is read, a malformed Host header is a 400 (never a 500),
 * and a second runtime on the same Redis and key prefix is refused.
 */
import { request } from "node:http";
import { Readable } from "node:stream";
import { expect, inject, it } from "vitest";
import { startLocalRuntime } from "../../local-runtime/host/runtime";
import { SecondRuntimeError } from "../../local-runtime/host/lease";
import { api, matchSettings, until, useApp } from "./harness";

const app = useApp(matchSettings({ duel: 2 }, ["westeurope"], 120));
const webhooks = () => `${app().baseUrl}/runtime/webhooks/durabletask`;

it("refuses forged Durable webhook calls without the system key (401), while the app's own durable client works", async () => {
  const rt = app();
  const created = await api(rt).call("POST", "/api/tickets", { playerId: "hardening-p1", mode: "duel", region: "westeurope" });
  expect(created.status).toBe(202); // the ticket function started its orchestrator through the durable client
  const forged: [string, string][] = [
    ["POST", "/instances/any/raiseEvent/ServerReady"],
    ["POST", "/orchestrators/matchRequest/squatter"],
    ["POST", "/instances/any/terminate?reason=x"],
    ["DELETE", "/instances?createdTimeFrom=2000-01-01T00:00:00Z"],
    ["DELETE", "/instances/any"],
    ["GET", "/instances"],
  ];
  for (const [method, path] of forged) {
    const r = await fetch(`${webhooks()}${path}`, { method, headers: { "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
    expect(r.status, `${method} ${path}`).toBe(401);
    const wrong = await fetch(`${webhooks()}${path}${path.includes("?") ? "&" : "?"}code=${rt.keys.functionKeys[0]}`, { method });
    expect(wrong.status, `${method} ${path} with a function key`).toBe(401);
  }
  // The system key and the master key open them, as on Azure.
  for (const key of [rt.keys.durableSystemKey, rt.keys.masterKey]) {
    const listed = await fetch(`${webhooks()}/instances`, { headers: { "x-functions-key": key } });
    expect(listed.status).toBe(200);
  }
  await until(async () => {
    const r = await fetch(`${webhooks()}/instances?code=${encodeURIComponent(rt.keys.durableSystemKey)}`);
    return ((await r.json()) as unknown[]).length >= 1;
  }, "the ticket's orchestration to be listed");
});

it("refuses a 100 MB chunked body as soon as it passes the limit, without reading the rest", async () => {
  const rt = app();
  const url = new URL(`${rt.baseUrl}/api/tickets`);
  let sent = 0;
  const total = 100 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const body = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  const answer = await new Promise<{ status: number; json: unknown; connection: string | undefined }>((resolve, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString() || "null"), connection: res.headers.connection }),
        );
      },
    );
    req.on("error", (err) => (sent < total ? undefined : reject(err))); // the server closes the connection under us
    body.pipe(req);
  });
  expect(answer.status).toBe(413);
  expect(answer.json).toMatchObject({ error: "body_too_large" });
  expect(answer.connection).toBe("close");
  body.destroy();
  // Far from the whole body: the server stopped reading right after the 4 KB limit (socket buffers aside).
  expect(sent).toBeLessThan(16 * 1024 * 1024);
});

it("answers a malformed Host header with 400 {error, detail}, never a 500", async () => {
  const { port } = new URL(app().baseUrl);
  for (const host of ["bad host!", "a:b:c", "[::1"]) {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method: "GET", path: "/api/stats", headers: { host } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(answer.status, host).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "invalid_host" });
  }
});

it("refuses a second runtime on the same Redis and key prefix with a clear message", async () => {
  const rt = app();
  const second = startLocalRuntime({
    port: 0,
    useLocalSettings: false,
    env: { REDIS_CONNECTION_STRING: inject("redisUrl"), REDIS_KEY_PREFIX: rt.prefix },
    log: () => undefined,
  });
  await expect(second).rejects.toBeInstanceOf(SecondRuntimeError);
  await expect(second).rejects.toThrow(/Another local runtime is already running on the same Redis .* and key prefix/);
  await expect(second).rejects.toThrow(rt.baseUrl);
  // The first one is untouched.
  expect((await api(rt).call("GET", "/api/openapi.json")).status).toBe(200);
});
