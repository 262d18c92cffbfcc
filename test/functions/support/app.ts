/**
 * The function app under test, run the way the host runs it: every registration captured through our
 * `@azure/functions-core`, invoked through the library's own invocation code, with
 * - the REAL local Durable engine (local-runtime/durable) behind a real HTTP server, so the durable client
 *   the handlers get is the real durable-functions DurableClient talking HTTP;
 * - the real store on the test redis-server, under a key prefix unique to the test file;
 * - an in-memory EventPublisher (there is no Event Hubs emulator here); messages it records are fed to
 *   the Event Hub functions by the test, the way the host would deliver them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, inject } from "vitest";
import { installFunctionsCore, invokeHttp, type LocalHttpRequest, type LocalHttpResponse, type RpcTypedData } from "../../../local-runtime/functionsCore";

export const core = installFunctionsCore();

import { resetSettingsCache } from "../../../src/config/settings";
import { DurableEngine } from "../../../local-runtime/durable";
import { MemoryEventPublisher, setEventPublisher } from "../../../src/messaging/eventPublisher";
import { setStoreFactory, store, storeFromSettings, type Store } from "../../../src/functions/wiring";

export const SIGNING_KEY = "functions-test-signing-key-0123456789abcdef";
/** TICKET_SIGNING_KEY alone is the key ring of one key with kid "default". */
export const SIGNING_KEYS = [{ kid: "default", key: SIGNING_KEY }];

export interface LogLine {
  level: string;
  fn: string;
  message: string;
}

export interface TestApp {
  prefix: string;
  engine: DurableEngine;
  publisher: MemoryEventPublisher;
  logs: LogLine[];
  /** Moves the store's clock (epoch ms offset); the durable engine keeps real time. */
  advanceStoreClock(ms: number): void;
  store(): Promise<Store>;
  /** Goes back to the harness's store (on the test redis, with the movable clock). */
  restoreStore(): void;
  http(name: string, req: Omit<LocalHttpRequest, "url"> & { url?: string; path?: string }): Promise<LocalHttpResponse>;
  eventHub(name: string, messages: unknown[]): Promise<unknown>;
  timer(name: string): Promise<unknown>;
  waitForStatus(instanceId: string, status: string): Promise<{ runtimeStatus: string; output?: string; customStatus?: string }>;
  close(): Promise<void>;
}

const BASE = "http://matchmaker.test";

function durableBinding(name: string): string | undefined {
  const reg = core.get(name);
  return Object.entries(reg.metadata.bindings).find(([, b]) => b.type === "durableClient")?.[0];
}

async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const prefix = `f${randomUUID().slice(0, 8)}`;
  const redisUrl = inject("redisUrl");
  Object.assign(process.env, {
    REDIS_CONNECTION_STRING: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    TICKET_SIGNING_KEY: SIGNING_KEY,
    MATCH_MODES: '{"duel":2,"squad":4}',
    DEFAULT_MODE: "duel",
    MATCH_REGIONS: '["westeurope","eastus"]',
    DEFAULT_REGION: "westeurope",
    MATCH_TIMEOUT_SECONDS: "60",
    SERVER_LEASE_SECONDS: "30",
    ...env,
  });
  resetSettingsCache();
  let offset = 0;
  const restoreStore = () => setStoreFactory((s) => storeFromSettings(s, { clock: () => Date.now() + offset }));
  restoreStore();
  await import("../../../src/index.js");

  const state: { engine?: DurableEngine } = {};
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]));
      const reply = state.engine
        ? state.engine.handleHttp({ method: req.method ?? "GET", url: req.url ?? "/", headers, body: Buffer.concat(chunks) })
        : Promise.resolve(undefined);
      reply.then(
        (r) => (r ? res.writeHead(r.status, r.headers).end(r.body) : res.writeHead(404).end()),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The durable client rewrites its URLs to localhost:7071 unless it believes it runs on a real host.
  process.env.WEBSITE_HOSTNAME = new URL(baseUrl).host;
  const engine = new DurableEngine({ core, redisUrl, prefix, taskHub: `Hub${prefix}`, baseUrl });
  state.engine = engine;
  await engine.start();

  const publisher = new MemoryEventPublisher();
  setEventPublisher(publisher);
  const logs: LogLine[] = [];
  core.logSink = (level, _category, fn, message) => {
    logs.push({ level, fn, message });
  };

  const extraInputs = (name: string): { name: string; data: RpcTypedData }[] => {
    const binding = durableBinding(name);
    return binding ? [engine.clientInputData(binding)] : [];
  };

  return {
    prefix,
    engine,
    publisher,
    logs,
    advanceStoreClock(ms: number) {
      offset += ms;
    },
    store,
    restoreStore,
    http(name, req) {
      const url = req.url ?? `${BASE}${req.path ?? "/"}`;
      return invokeHttp(core, name, { ...req, url }, extraInputs(name));
    },
    async eventHub(name, messages) {
      const reg = core.get(name);
      const now = new Date().toISOString();
      const res = await core.invoke(name, {
        inputData: [{ name: reg.trigger.name, data: { json: JSON.stringify(messages) } }, ...extraInputs(name)],
        triggerMetadata: {
          enqueuedTimeUtcArray: { json: JSON.stringify(messages.map(() => now)) },
          sequenceNumberArray: { json: JSON.stringify(messages.map((_m, i) => i)) },
          partitionContext: { json: JSON.stringify({ eventHubName: "test", consumerGroup: "$Default", partitionId: "0" }) },
        },
      });
      return res.returnValue;
    },
    async timer(name) {
      const reg = core.get(name);
      const res = await core.invoke(name, {
        inputData: [
          { name: reg.trigger.name, data: { json: JSON.stringify({ isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: null }) } },
          ...extraInputs(name),
        ],
      });
      return res.returnValue;
    },
    async waitForStatus(instanceId, status) {
      for (let i = 0; i < 400; i++) {
        const rec = await engine.getStatus(instanceId);
        if (rec?.runtimeStatus === status) return rec as unknown as { runtimeStatus: string; output?: string; customStatus?: string };
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`instance ${instanceId} did not reach ${status}: ${JSON.stringify(await engine.getStatus(instanceId))}`);
    },
    async close() {
      setEventPublisher(undefined);
      await engine.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const st = await store().catch(() => undefined);
      setStoreFactory(undefined);
      await (st as { redis?: { close(): Promise<void> } } | undefined)?.redis?.close();
    },
  };
}

/**
 * The app of a test file: started before its tests, closed after them. The returned object forwards to
 * the running app, so tests use it like the TestApp itself.
 */
export function useTestApp(env: Record<string, string> = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startApp(env);
  });
  afterAll(async () => {
    await current?.close();
  });
  return new Proxy({} as TestApp, {
    get(_target, key) {
      if (!current) throw new Error("the test app starts in beforeAll; use it inside tests");
      return Reflect.get(current, key);
    },
  });
}

/** An id unique to this run: `<label>-<8 hex>`. */
export const uniqueId = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

/** JSON of an Event Hub function's return value. */
export function returned<T>(rv: unknown): T {
  const v = rv as { json?: string; string?: string } | undefined;
  return JSON.parse(v?.json ?? v?.string ?? "null") as T;
}

/** Delivers what POST /tickets published (and was not delivered yet) to addPlayers, as the Event Hub trigger would. */
export async function deliverPlayerRequests(app: TestApp): Promise<void> {
  const pending = app.publisher.sent.filter((s) => s.hubName === "player-requests" && !(s as { delivered?: boolean }).delivered);
  for (const p of pending) (p as { delivered?: boolean }).delivered = true;
  if (pending.length)
    await app.eventHub(
      "addPlayers",
      pending.map((p) => p.event.body),
    );
}
