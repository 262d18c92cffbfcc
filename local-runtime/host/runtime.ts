/**
 * The local runtime: plays the Azure Functions host's part for the app's own registrations, on one machine.
 * Development and test tool only; production runs on the Azure Functions host.
 *
 * `startLocalRuntime()` loads settings (local.settings.json Values -> environment, unless already set),
 * makes sure there is a Redis, takes the runtime lease (one runtime per Redis and key prefix), installs our
 * `@azure/functions-core` and the in-process Event Hubs publisher, loads the app (an explicit HostedApp),
 * runs its appStart hooks, then starts the host parts: HTTP routes, the Durable engine, Event Hub consumers,
 * timers, and any extra local services. `restart()` stops and starts the host parts around the same loaded app.
 */
import { randomBytes } from "node:crypto";
import { join, resolve as resolvePath } from "node:path";
import { installFunctionsCore, type FunctionsCore, type Registration } from "../functionsCore";
import { applyLocalSettings, readHostJson, readLocalSettings, resolveBindingExpression, type HostJson, type LocalSettingsJson } from "./appConfig";
import { describeFunction, type FunctionInfo } from "./describe";
import { LocalEventHubs, type EventPublisherLike } from "./eventHubs";
import { Faults } from "./faults";
import { defaultCreateDurable, HostParts, type DurableEngineFactory } from "./hostParts";
import { matchmakerApp, type HostedApp } from "./hostedApp";
import { bindListener, DURABLE_WEBHOOK_PREFIX, type HttpKeys } from "./httpServer";
import { Invoker, type DurableEngineLike } from "./invoker";
import { readLeaseHolder, RuntimeLease } from "./lease";
import { startPrivateRedis } from "./privateRedis";
import type { LocalService, StartedService } from "./services";
import type { LocalTimers } from "./timers";
import { validateSchedule } from "./timers";
import { startLocalPush, type LocalPush } from "../webpubsub/mount";
import { inProcessClient, inProcessPushWanted } from "../webpubsub/inProcessClient";
import { startLocalIdentity, type LocalIdentity } from "../identity/mount";
import { LocalMetrics } from "../metrics/localMetrics";

export type { FunctionInfo } from "./describe";
export { SecondRuntimeError } from "./lease";

export const LOCAL_RUNTIME_NOTICE = "LOCAL RUNTIME (development only; production runs on the Azure Functions host)";
export const DEFAULT_FUNCTION_KEY = "local-function-key";
export const DEFAULT_MASTER_KEY = "local-master-key";
/** The Azure host's default request body limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT), for apps that declare none. */
export const DEFAULT_REQUEST_BODY_LIMIT = 100 * 1024 * 1024;

export interface LocalRuntimeOptions {
  /** Folder with host.json and local.settings.json. Default: the current directory. */
  appDir?: string;
  /** The app to host. Default: the matchmaker (src/index.ts). */
  app?: HostedApp;
  /** HTTP port; 0 picks a free one. Default: LOCAL_PORT or 7071. */
  port?: number;
  host?: string;
  /** Settings that win over the environment and local.settings.json (tests). */
  env?: Record<string, string>;
  /** Whether to read local.settings.json at all. Default true. */
  useLocalSettings?: boolean;
  /** Where the private redis-server keeps its data when REDIS_CONNECTION_STRING is unset. Default LOCAL_REDIS_DIR or <appDir>/.local/redis. */
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
  /** Extra local services (Web PubSub emulator, identity issuer, ...): see services.ts. */
  services?: LocalService[];
  /** Runs after settings are in the environment and the publisher is installed, before the app loads. */
  beforeAppLoad?: () => void | Promise<void>;
  /** Builds the Durable engine; default: DurableEngine of local-runtime/durable. */
  createDurableEngine?: DurableEngineFactory;
  /** Called when the runtime lease is lost while running (another runtime took over the keys). Default: log. */
  onLeaseLost?: (why: string) => void;
}

export interface LocalRuntime {
  readonly baseUrl: string;
  readonly core: FunctionsCore;
  readonly functions: FunctionInfo[];
  readonly httpRoutes: { functionName: string; methods: string[]; url: string; authLevel: string }[];
  readonly faults: Faults;
  /** Push: the local Web PubSub service this runtime plays (undefined with a configured one, or push off). */
  readonly push: LocalPush;
  /** Player identity: the mode, and the development issuer this runtime plays (PLAYER_AUTH=jwt without an issuer). */
  readonly identity: LocalIdentity;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly keys: HttpKeys;
  readonly durableStatusUrlPattern: string;
  /** Banner lines of the extra services. */
  readonly serviceBanners: string[];
  eventHubs(): LocalEventHubs;
  timers(): LocalTimers;
  durable(): DurableEngineLike | undefined;
  invoker: Invoker;
  /** Waits until every Event Hub consumer has checkpointed all events published so far. */
  drainEvents(timeoutMs?: number): Promise<boolean>;
  /** Host restart: graceful stop of the host parts, then start again (same port, same Redis state). */
  restart(o?: { abrupt?: boolean }): Promise<void>;
  /** Stops everything, including a private redis-server this runtime started or reused. */
  stop(): Promise<void>;
}

const DURABLE_TRIGGERS = /^(orchestrationTrigger|activityTrigger|entityTrigger)$/i;
const LOG_LEVELS = ["trace", "debug", "information", "warning", "error", "critical", "none"];

/** What start-up undoes, last first, when a later step fails or the runtime stops. */
class Cleanups {
  private readonly steps: (() => Promise<void> | void)[] = [];
  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  }
}

let loadedApp: HostedApp | undefined;

/** The app's modules register their functions once per process (the worker loads an app once). */
async function loadApp(app: HostedApp): Promise<void> {
  if (loadedApp === app) return;
  if (loadedApp) throw new Error("The local runtime already loaded another app in this process; one app per process");
  loadedApp = app;
  await app.load();
}

interface HostConfig {
  appDir: string;
  host: HostJson;
  localSettings: LocalSettingsJson;
  resolve: (s: string) => string;
}

/** Settings: explicit options > environment > local.settings.json, as Core Tools does. */
function loadHostConfig(opts: LocalRuntimeOptions): HostConfig {
  const appDir = resolvePath(opts.appDir ?? process.cwd());
  for (const [k, v] of Object.entries(opts.env ?? {})) process.env[k] = v;
  const localSettings = opts.useLocalSettings !== false ? readLocalSettings(appDir) : {};
  applyLocalSettings(localSettings.Values);
  // A development host, as Core Tools is: the app then accepts the public ticket key of local.settings.json.
  process.env.AZURE_FUNCTIONS_ENVIRONMENT ||= "Development";
  return { appDir, host: readHostJson(appDir), localSettings, resolve: (s) => resolveBindingExpression(s, process.env) };
}

/** REDIS_CONNECTION_STRING, or a private redis-server that ends with this runtime. */
async function ensureRedis(opts: LocalRuntimeOptions, config: HostConfig, cleanups: Cleanups, log: (m: string) => void): Promise<string> {
  if (process.env.REDIS_CONNECTION_STRING) return process.env.REDIS_CONNECTION_STRING;
  const persistDir = opts.redisPersistDir ?? process.env.LOCAL_REDIS_DIR ?? join(config.appDir, ".local", "redis");
  const redis = await startPrivateRedis({
    persistDir,
    port: opts.redisPort ?? (process.env.LOCAL_REDIS_PORT ? Number(process.env.LOCAL_REDIS_PORT) : undefined),
  });
  cleanups.add(redis.stop);
  process.env.REDIS_CONNECTION_STRING = redis.url;
  log(`Private redis-server ${redis.reused ? "(already running, stopped with this runtime) " : ""}at ${redis.url}, data in ${persistDir}`);
  return redis.url;
}

function hostKeys(): HttpKeys {
  return {
    functionKeys: [process.env.LOCAL_FUNCTION_KEY || DEFAULT_FUNCTION_KEY],
    masterKey: process.env.LOCAL_MASTER_KEY || DEFAULT_MASTER_KEY,
    // The durabletask_extension system key: a fresh secret per start unless set, since no client needs it.
    durableSystemKey: process.env.LOCAL_DURABLE_SYSTEM_KEY || randomBytes(24).toString("base64url"),
  };
}

function installCore(opts: LocalRuntimeOptions, log: (m: string) => void): FunctionsCore {
  const core = installFunctionsCore();
  const minLevel = LOG_LEVELS.indexOf((opts.functionLogLevel ?? process.env.LOCAL_LOG_LEVEL ?? "warning").toLowerCase());
  core.logSink = (level, _category, fn, message) => {
    const l = LOG_LEVELS.indexOf(level.toLowerCase());
    if (l >= (minLevel < 0 ? 3 : minLevel)) log(`[${fn}] ${level === "information" ? "" : `${level}: `}${message}`);
  };
  return core;
}

/** Refuses a bad NCRONTAB schedule before anything listens, with a clear message. */
function validateTimers(regs: Registration[], resolve: (s: string) => string): void {
  for (const reg of regs) {
    if (/^timerTrigger$/i.test(reg.trigger.type)) validateSchedule(reg.metadata.name, resolve(String((reg.trigger as { schedule?: unknown }).schedule)));
  }
}

/** The host's limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MB by default) everywhere; the app's own, if lower, on its routes. */
function bodyLimits(app: HostedApp): { maxRequestBodyBytes: number; hostMaxRequestBodyBytes: number } {
  const host = envNumber("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT") ?? DEFAULT_REQUEST_BODY_LIMIT;
  return { hostMaxRequestBodyBytes: host, maxRequestBodyBytes: Math.min(host, app.maxRequestBodyBytes ?? host) };
}

function envNumber(name: string): number | undefined {
  return process.env[name] ? Number(process.env[name]) : undefined;
}

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const cleanups = new Cleanups();
  try {
    return await startRuntime(opts, cleanups);
  } catch (err) {
    // Do not leave a private redis-server, a lease or open connections behind when start-up fails.
    await cleanups.run();
    throw err;
  }
}

async function startRuntime(opts: LocalRuntimeOptions, cleanups: Cleanups): Promise<LocalRuntime> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const app = opts.app ?? matchmakerApp;
  const config = loadHostConfig(opts);
  const redisUrl = await ensureRedis(opts, config, cleanups, log);
  const prefix = app.redisKeyPrefix(process.env);
  const lease = await RuntimeLease.acquire(redisUrl, prefix, opts.onLeaseLost ?? ((why) => log(`ERROR: ${why}`)));
  cleanups.add(() => lease.release());
  const keys = hostKeys();
  const core = installCore(opts, log);
  const services = opts.services ?? [];
  for (const s of services) await s.configure?.(process.env);

  const faults = new Faults();
  const invoker = new Invoker(core, faults);
  const ehConfig = config.host.extensions?.eventHubs ?? {};
  const newEventHubs = () =>
    new LocalEventHubs(
      {
        redisUrl,
        prefix,
        partitions: opts.eventHubPartitions ?? envNumber("LOCAL_EVENTHUB_PARTITIONS") ?? 4,
        maxEventBatchSize: opts.maxEventBatchSize ?? ehConfig.maxEventBatchSize ?? 100,
        batchCheckpointFrequency: ehConfig.batchCheckpointFrequency ?? 1,
        log,
      },
      invoker,
    );
  const current: { parts?: HostParts } = {};
  // The publisher forwards to whichever LocalEventHubs is current, so it survives restart().
  const publisher: EventPublisherLike = {
    send: (hub, events) => (current.parts ? current.parts.eventHubs.send(hub, events) : Promise.reject(new Error("the local Event Hubs are not started"))),
    close: async () => undefined,
  };
  await app.setEventPublisher(publisher);
  cleanups.add(() => app.setEventPublisher(undefined));

  // Push (Azure Web PubSub): played locally unless configured; the app reads the setting when it loads.
  const push = await startLocalPush({ log });
  cleanups.add(push.stop);
  if (push.service && app.setPushHttpClient && inProcessPushWanted()) {
    app.setPushHttpClient(inProcessClient(push.service));
    cleanups.add(() => app.setPushHttpClient?.(undefined));
  }
  // The port is bound before the app loads: the development issuer's `iss`, an app setting, is this origin.
  const listenHost = opts.host ?? "127.0.0.1";
  const listener = await bindListener(opts.port ?? envNumber("LOCAL_PORT") ?? Number(config.localSettings.Host?.LocalHttpPort ?? 7071), listenHost);
  cleanups.add(listener.close);
  const identity = await startLocalIdentity({ origin: listener.origin, stateFile: join(config.appDir, ".local", "identity", "signing-keys.json") });
  cleanups.add(identity.stop);
  // The app's OpenTelemetry metrics, collected here for /runtime/local/metrics and its Prometheus page.
  const localMetrics = new LocalMetrics();
  localMetrics.install();
  await opts.beforeAppLoad?.();
  await loadApp(app);
  await core.start(); // the app's appStart hooks: invalid settings throw here and the runtime does not start
  cleanups.add(() => core.terminate());

  const regs = [...core.registrations.values()];
  validateTimers(regs, config.resolve);
  const hostParts = new HostParts(
    {
      core,
      invoker,
      faults,
      regs,
      host: config.host,
      resolve: config.resolve,
      redisUrl,
      prefix,
      keys,
      cors: process.env.LOCAL_CORS ?? (config.localSettings.Host?.CORS as string | undefined),
      listenHost,
      ...bodyLimits(app),
      mounts: [...identity.mounts, ...services.flatMap((s) => s.mounts ?? [])],
      needsDurable: regs.some((r) => DURABLE_TRIGGERS.test(r.trigger.type) || Object.values(r.metadata.bindings).some((b) => /^durableClient$/i.test(b.type))),
      taskHub: process.env.DURABLE_TASK_HUB || String(config.host.extensions?.durableTask?.hubName ?? "") || "MatchmakerLocal",
      createDurable: opts.createDurableEngine ?? defaultCreateDurable,
      newEventHubs,
      localMetrics,
      log,
    },
    listener,
  );
  current.parts = hostParts;
  cleanups.add(() => hostParts.stop(false));
  try {
    await hostParts.start();
  } catch (err) {
    await hostParts.stop(true).catch(() => undefined);
    throw err;
  }
  const baseUrl = hostParts.http!.baseUrl;
  await lease.publishUrl(baseUrl);
  const serviceBanners = await startServices(services, { baseUrl, redisUrl, prefix, log }, cleanups);
  return runtimeHandle({
    core,
    faults,
    push,
    identity,
    invoker,
    redisUrl,
    prefix,
    keys,
    parts: hostParts,
    cleanups,
    serviceBanners,
    resolve: config.resolve,
    regs,
  });
}

async function startServices(services: LocalService[], ctx: Parameters<NonNullable<LocalService["start"]>>[0], cleanups: Cleanups): Promise<string[]> {
  const banners: string[] = [];
  for (const s of services) {
    const started: StartedService | void = await s.start?.({ ...ctx, log: (m) => ctx.log(`[${s.name}] ${m}`) });
    if (started) {
      cleanups.add(() => started.stop());
      banners.push(...(started.banner ?? []));
    }
  }
  return banners;
}

function runtimeHandle(o: {
  core: FunctionsCore;
  faults: Faults;
  push: LocalPush;
  identity: LocalIdentity;
  invoker: Invoker;
  redisUrl: string;
  prefix: string;
  keys: HttpKeys;
  parts: HostParts;
  cleanups: Cleanups;
  serviceBanners: string[];
  resolve: (s: string) => string;
  regs: Registration[];
}): LocalRuntime {
  const web = () => o.parts.http!;
  return {
    get baseUrl() {
      return web().baseUrl;
    },
    core: o.core,
    functions: o.regs.map((r) => describeFunction(r, o.resolve)),
    get httpRoutes() {
      return web().routes.map((r) => ({ functionName: r.functionName, methods: r.methods ?? ["ALL"], url: web().urlOf(r), authLevel: r.authLevel }));
    },
    faults: o.faults,
    push: o.push,
    identity: o.identity,
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    keys: o.keys,
    serviceBanners: o.serviceBanners,
    get durableStatusUrlPattern() {
      return `${web().baseUrl}${DURABLE_WEBHOOK_PREFIX}/instances/{instanceId}`;
    },
    eventHubs: () => o.parts.eventHubs,
    timers: () => o.parts.timers!,
    durable: () => o.parts.durable,
    invoker: o.invoker,
    drainEvents: (timeoutMs) => o.parts.eventHubs.drain(timeoutMs),
    restart: (r = {}) => o.parts.restart(Boolean(r.abrupt)),
    stop: () => o.cleanups.run(),
  };
}

/**
 * The URL of a local runtime that holds the lease for this app folder's Redis and key prefix (what
 * `npm start` would use), or undefined. For the simulator, so it never starts a second runtime on the same keys.
 */
export async function findRunningLocalRuntime(appDir: string, app: HostedApp = matchmakerApp): Promise<string | undefined> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  applyLocalSettings(readLocalSettings(resolvePath(appDir)).Values, env);
  const redisUrl = env.REDIS_CONNECTION_STRING || `redis://127.0.0.1:${env.LOCAL_REDIS_PORT || 6399}`;
  const holder = await readLeaseHolder(redisUrl, app.redisKeyPrefix(env));
  return holder ? (holder.baseUrl ?? `pid ${holder.pid}`) : undefined;
}
