/**
 * The local runtime: plays the Azure Functions host's part for the app's own registrations, on one machine.
 * Development and test tool only; production runs on the Azure Functions host.
 *
 * `startLocalRuntime()` loads settings (local.settings.json Values -> environment, unless already set),
 * makes sure there is a Redis, installs our `@azure/functions-core` and the in-process Event Hubs publisher,
 * loads the app entry, then starts: HTTP routes, the Durable engine, Event Hub consumers and timers.
 * `restart()` / `crash()` stop and start the host parts again around the same loaded app, which is what a
 * restart of the host looks like to the app's state in Redis.
 */
import { existsSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { installFunctionsCore, type FunctionsCore, type Registration } from "../functionsCore";
import { applyLocalSettings, readHostJson, readLocalSettings, resolveBindingExpression, type HostJson } from "./appConfig";
import { LocalEventHubs, retryPolicyOf, type EventPublisherLike } from "./eventHubs";
import { Faults } from "./faults";
import { LocalHttpServer, DURABLE_WEBHOOK_PREFIX, type HttpKeys } from "./httpServer";
import { Invoker, type DurableEngineLike } from "./invoker";
import { startPrivateRedis } from "./privateRedis";
import { LocalTimers } from "./timers";
import { DurableEngine } from "../durable/engine";
import { setEventPublisher } from "../../src/messaging/eventPublisher";
import { startLocalPush, type LocalPush } from "../webpubsub/mount";

export const LOCAL_RUNTIME_NOTICE = "LOCAL RUNTIME (development only; production runs on the Azure Functions host)";
export const DEFAULT_FUNCTION_KEY = "local-function-key";
export const DEFAULT_MASTER_KEY = "local-master-key";

export interface LocalRuntimeOptions {
  /** Folder with host.json and local.settings.json. Default: the current directory. */
  appDir?: string;
  /** App entry module. Default: <appDir>/dist/src/index.js. */
  entry?: string;
  /** HTTP port; 0 picks a free one. Default: LOCAL_PORT or 7071. */
  port?: number;
  host?: string;
  /** Settings that win over the environment and local.settings.json (tests). */
  env?: Record<string, string>;
  /** Whether to read local.settings.json at all. Default true. */
  useLocalSettings?: boolean;
  /** Where the private redis-server keeps its data when REDIS_CONNECTION_STRING is unset. Default <appDir>/.local/redis. */
  redisPersistDir?: string;
  redisPort?: number;
  eventHubPartitions?: number;
  /** Overrides host.json extensions.eventHubs.maxEventBatchSize. */
  maxEventBatchSize?: number;
  log?: (msg: string) => void;
  /**
   * Lowest level of the functions' own logs (context.log/warn/error) passed to `log`:
   * "trace" | "debug" | "information" | "warning" | "error" | "none". Default: LOCAL_LOG_LEVEL or "warning".
   */
  functionLogLevel?: string;
  /** Installs the Event Hubs publisher into the app; default: setEventPublisher of src/messaging/eventPublisher. */
  installPublisher?: (p: EventPublisherLike | undefined) => void | Promise<void>;
  /** Runs after settings are in the environment and the publisher is installed, before the app entry loads. */
  beforeAppLoad?: () => void | Promise<void>;
  /** Builds the Durable engine; default: DurableEngine of local-runtime/durable. */
  createDurableEngine?: (o: {
    core: FunctionsCore;
    redisUrl: string;
    prefix: string;
    taskHub: string;
    baseUrl: string;
  }) => DurableEngineLike | Promise<DurableEngineLike>;
}

export interface FunctionInfo {
  name: string;
  trigger: string;
  /** Human description: route and methods, hub and cardinality, schedule... */
  detail: string;
}

export interface LocalRuntime {
  readonly baseUrl: string;
  readonly core: FunctionsCore;
  readonly functions: FunctionInfo[];
  readonly httpRoutes: { functionName: string; methods: string[]; url: string; authLevel: string }[];
  readonly faults: Faults;
  /** Push: the local Web PubSub service this runtime plays (undefined with a configured one, or push off). */
  readonly push: LocalPush;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly keys: HttpKeys;
  readonly durableStatusUrlPattern: string;
  eventHubs(): LocalEventHubs;
  timers(): LocalTimers;
  durable(): DurableEngineLike | undefined;
  invoker: Invoker;
  /** Waits until every Event Hub consumer has checkpointed all events published so far. */
  drainEvents(timeoutMs?: number): Promise<boolean>;
  /** Host restart: graceful stop of the host parts, then start again (same port, same Redis state). */
  restart(o?: { abrupt?: boolean }): Promise<void>;
  /** Stops everything, including a private redis-server this runtime started. */
  stop(): Promise<void>;
}

const DURABLE_TRIGGERS = /^(orchestrationTrigger|activityTrigger|entityTrigger)$/i;

function describe(reg: Registration, resolve: (s: string) => string): FunctionInfo {
  const t = reg.trigger as Record<string, unknown> & { type: string };
  const type = t.type;
  let detail = "";
  if (/^httpTrigger$/i.test(type)) {
    const methods = (t.methods as string[] | undefined)?.join(",") ?? "ALL";
    detail = `${methods} ${resolve(String(t.route ?? reg.metadata.name))} (auth: ${String(t.authLevel ?? "anonymous")})`;
  } else if (/^eventHubTrigger$/i.test(type)) {
    const retry = retryPolicyOf(reg);
    detail =
      `hub ${resolve(String(t.eventHubName))}, cardinality ${String(t.cardinality ?? "many")}` +
      (retry ? `, retry ${retry.strategy} ${retry.maxRetryCount === -1 ? "until success" : `x${retry.maxRetryCount}`}` : ", no retry policy");
  } else if (/^timerTrigger$/i.test(type)) {
    detail = `schedule ${resolve(String(t.schedule))}${t.runOnStartup ? ", runOnStartup" : ""}`;
  } else if (/^orchestrationTrigger$/i.test(type)) detail = "Durable orchestrator";
  else if (/^activityTrigger$/i.test(type)) detail = "Durable activity";
  else if (/^entityTrigger$/i.test(type)) detail = "Durable entity";
  return { name: reg.metadata.name, trigger: type, detail };
}

let loadedEntry: string | undefined;

async function loadApp(entry: string): Promise<void> {
  if (loadedEntry === entry) return;
  if (loadedEntry) throw new Error(`The local runtime already loaded ${loadedEntry}; one app per process`);
  loadedEntry = entry;
  await import(entry);
}

/** The app's own publisher hook (src/messaging/eventPublisher): the in-process hubs replace Event Hubs. */
async function defaultInstallPublisher(p: EventPublisherLike | undefined): Promise<void> {
  setEventPublisher(p);
}

async function defaultCreateDurable(o: Parameters<NonNullable<LocalRuntimeOptions["createDurableEngine"]>>[0]): Promise<DurableEngineLike> {
  return new DurableEngine(o);
}

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    return await startLocalRuntimeInner(opts, cleanups);
  } catch (err) {
    // Do not leave a private redis-server or open connections behind when start-up fails.
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

async function startLocalRuntimeInner(opts: LocalRuntimeOptions, cleanups: (() => Promise<void>)[]): Promise<LocalRuntime> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const appDir = resolvePath(opts.appDir ?? process.cwd());

  // Settings: explicit options > environment > local.settings.json, as Core Tools does.
  for (const [k, v] of Object.entries(opts.env ?? {})) process.env[k] = v;
  const localSettings = opts.useLocalSettings !== false ? readLocalSettings(appDir) : {};
  applyLocalSettings(localSettings.Values);
  const host: HostJson = readHostJson(appDir);
  const resolve = (s: string) => resolveBindingExpression(s, process.env);

  let stopRedis: (() => Promise<void>) | undefined;
  if (!process.env.REDIS_CONNECTION_STRING) {
    const redis = await startPrivateRedis({
      persistDir: opts.redisPersistDir ?? join(appDir, ".local", "redis"),
      port: opts.redisPort ?? (process.env.LOCAL_REDIS_PORT ? Number(process.env.LOCAL_REDIS_PORT) : undefined),
    });
    stopRedis = redis.stop;
    cleanups.push(redis.stop);
    process.env.REDIS_CONNECTION_STRING = redis.url;
    log(`Private redis-server ${redis.reused ? "(already running) " : ""}at ${redis.url}, data in ${opts.redisPersistDir ?? ".local/redis"}`);
  }
  const redisUrl = process.env.REDIS_CONNECTION_STRING!;
  const prefix = process.env.REDIS_KEY_PREFIX || "mm";
  const keys: HttpKeys = {
    functionKeys: [process.env.LOCAL_FUNCTION_KEY || DEFAULT_FUNCTION_KEY],
    masterKey: process.env.LOCAL_MASTER_KEY || DEFAULT_MASTER_KEY,
  };

  const core = installFunctionsCore();
  const levels = ["trace", "debug", "information", "warning", "error", "critical", "none"];
  const minLevel = levels.indexOf((opts.functionLogLevel ?? process.env.LOCAL_LOG_LEVEL ?? "warning").toLowerCase());
  core.logSink = (level, _category, fn, message) => {
    const l = levels.indexOf(level.toLowerCase());
    if (l >= (minLevel < 0 ? 3 : minLevel)) log(`[${fn}] ${level === "information" ? "" : `${level}: `}${message}`);
  };
  const faults = new Faults();
  const invoker = new Invoker(core, faults);
  const ehConfig = host.extensions?.eventHubs ?? {};
  const newEventHubs = () =>
    new LocalEventHubs(
      {
        redisUrl,
        prefix,
        partitions: opts.eventHubPartitions ?? (process.env.LOCAL_EVENTHUB_PARTITIONS ? Number(process.env.LOCAL_EVENTHUB_PARTITIONS) : 4),
        maxEventBatchSize: opts.maxEventBatchSize ?? ehConfig.maxEventBatchSize ?? 100,
        batchCheckpointFrequency: ehConfig.batchCheckpointFrequency ?? 1,
        log,
      },
      invoker,
    );

  let eventHubs = newEventHubs();
  await eventHubs.connect();
  cleanups.push(() => eventHubs.stop());
  // The publisher forwards to whichever LocalEventHubs is current, so it survives restart().
  const publisher: EventPublisherLike = { send: (hub, events) => eventHubs.send(hub, events), close: async () => undefined };
  await (opts.installPublisher ?? defaultInstallPublisher)(publisher);

  const entry = resolvePath(opts.entry ?? join(appDir, "dist", "src", "index.js"));
  if (!existsSync(entry) && !existsSync(`${entry}.js`) && !existsSync(`${entry}.ts`)) throw new Error(`App entry ${entry} not found (run npm run build)`);
  // Push (Azure Web PubSub): played locally unless configured; the app reads the setting when it loads.
  const push = await startLocalPush({ log });
  cleanups.push(push.stop);
  await opts.beforeAppLoad?.();
  await loadApp(entry);
  await core.start();

  const regs = [...core.registrations.values()];
  const functions = regs.map((r) => describe(r, resolve));
  const needsDurable = regs.some(
    (r) => DURABLE_TRIGGERS.test(r.trigger.type) || Object.values(r.metadata.bindings).some((b) => /^durableClient$/i.test(b.type)),
  );
  const taskHub = process.env.DURABLE_TASK_HUB || String(host.extensions?.durableTask?.hubName ?? "") || "MatchmakerLocal";

  let http: LocalHttpServer | undefined;
  let timers: LocalTimers | undefined;
  let durable: DurableEngineLike | undefined;
  let port = opts.port ?? (process.env.LOCAL_PORT ? Number(process.env.LOCAL_PORT) : Number(localSettings.Host?.LocalHttpPort ?? 7071));
  const routePrefix = host.extensions?.http?.routePrefix ?? "api";

  const startHostParts = async () => {
    http = new LocalHttpServer(invoker, { routePrefix, keys, log, cors: process.env.LOCAL_CORS ?? (localSettings.Host?.CORS as string | undefined) }, resolve);
    http.metricsExtra = () => ({
      eventHubs: {
        published: Object.fromEntries(eventHubs.published),
        delivered: Object.fromEntries(eventHubs.delivered),
        droppedBatches: Object.fromEntries(eventHubs.dropped),
      },
    });
    const baseUrl = await http.listen(port, opts.host ?? "127.0.0.1");
    port = Number(new URL(baseUrl).port); // a restart keeps the port, so URLs handed out stay valid
    // As Core Tools does: without WEBSITE_HOSTNAME the durable client rewrites its management URLs to
    // localhost:7071, which is wrong on any other port.
    process.env.WEBSITE_HOSTNAME = new URL(baseUrl).host;
    if (needsDurable) {
      durable = await (opts.createDurableEngine ?? defaultCreateDurable)({ core, redisUrl, prefix, taskHub, baseUrl });
      invoker.durable = durable;
      await durable.start();
    }
    timers = new LocalTimers(invoker, log);
    for (const reg of regs) {
      const t = reg.trigger as Record<string, unknown>;
      if (/^eventHubTrigger$/i.test(reg.trigger.type)) {
        eventHubs.addConsumer({
          functionName: reg.metadata.name,
          hubName: resolve(String(t.eventHubName)),
          consumerGroup: resolve(String(t.consumerGroup ?? "$Default")),
          cardinality: String(t.cardinality ?? "many").toLowerCase() === "one" ? "one" : "many",
          retry: retryPolicyOf(reg),
        });
      } else if (/^timerTrigger$/i.test(reg.trigger.type)) {
        timers.add({ functionName: reg.metadata.name, schedule: resolve(String(t.schedule)), runOnStartup: Boolean(t.runOnStartup) });
      }
    }
    eventHubs.start();
    timers.start();
  };

  const stopHostParts = async (abrupt: boolean) => {
    await timers?.stop();
    if (abrupt) {
      const crashing = eventHubs.crash();
      faults.releaseStalls();
      await crashing;
    } else {
      const stopping = eventHubs.stop();
      faults.releaseStalls();
      await stopping;
    }
    await durable?.stop();
    invoker.durable = undefined;
    await http?.close();
  };

  try {
    await startHostParts();
  } catch (err) {
    await stopHostParts(true).catch(() => undefined);
    throw err;
  }

  const web = () => http!;
  const runtime: LocalRuntime = {
    get baseUrl() {
      return web().baseUrl;
    },
    core,
    functions,
    get httpRoutes() {
      return web().routes.map((r) => ({ functionName: r.functionName, methods: r.methods ?? ["ALL"], url: web().urlOf(r), authLevel: r.authLevel }));
    },
    faults,
    push,
    redisUrl,
    prefix,
    keys,
    get durableStatusUrlPattern() {
      return `${web().baseUrl}${DURABLE_WEBHOOK_PREFIX}/instances/{instanceId}`;
    },
    eventHubs: () => eventHubs,
    timers: () => timers!,
    durable: () => durable,
    invoker,
    drainEvents: (timeoutMs) => eventHubs.drain(timeoutMs),
    restart: async (o = {}) => {
      await stopHostParts(Boolean(o.abrupt));
      eventHubs = newEventHubs();
      await eventHubs.connect();
      await startHostParts();
    },
    stop: async () => {
      await stopHostParts(false);
      await core.terminate();
      await Promise.resolve()
        .then(() => (opts.installPublisher ?? defaultInstallPublisher)(undefined))
        .catch(() => undefined);
      await push.stop();
      await stopRedis?.();
    },
  };
  return runtime;
}
