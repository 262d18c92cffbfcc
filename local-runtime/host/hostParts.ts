/**
 * The parts of the host that a host restart stops and starts again around the same loaded app: the HTTP
 * server (with the Durable webhooks and mounted services), the Durable engine, the Event Hub consumers and
 * the timers. Their state lives in Redis, so a restart looks to the app as it does on Azure.
 */
import type { FunctionsCore, Registration } from "../functionsCore";
import { DurableEngine } from "../durable/engine";
import { inProcessTransportWanted, serveInProcess } from "../durable/inProcessTransport";
import type { HostJson } from "./appConfig";
import { retryPolicyOf, type LocalEventHubs } from "./eventHubs";
import type { Faults } from "./faults";
import { DURABLE_WEBHOOK_PREFIX, LocalHttpServer, type BoundListener, type HttpKeys } from "./httpServer";
import type { DurableEngineLike, Invoker } from "./invoker";
import type { MountedHandler } from "./services";
import { LocalTimers } from "./timers";
import type { LocalMetrics } from "../metrics/localMetrics";

export interface DurableEngineFactoryOptions {
  core: FunctionsCore;
  redisUrl: string;
  prefix: string;
  taskHub: string;
  baseUrl: string;
  /** The durabletask_extension system key the webhooks require; the master key is accepted too. */
  systemKey: string;
  masterKey: string;
}

export type DurableEngineFactory = (o: DurableEngineFactoryOptions) => DurableEngineLike | Promise<DurableEngineLike>;

export const defaultCreateDurable: DurableEngineFactory = (o) => new DurableEngine(o);

export interface HostPartsOptions {
  core: FunctionsCore;
  invoker: Invoker;
  faults: Faults;
  regs: Registration[];
  host: HostJson;
  resolve: (s: string) => string;
  redisUrl: string;
  prefix: string;
  keys: HttpKeys;
  cors: string | undefined;
  listenHost: string;
  maxRequestBodyBytes: number;
  hostMaxRequestBodyBytes: number;
  mounts: MountedHandler[];
  needsDurable: boolean;
  taskHub: string;
  createDurable: DurableEngineFactory;
  newEventHubs: () => LocalEventHubs;
  /** The app's OpenTelemetry metrics as JSON and Prometheus text. */
  localMetrics: LocalMetrics;
  log: (msg: string) => void;
}

export class HostParts {
  http: LocalHttpServer | undefined;
  timers: LocalTimers | undefined;
  durable: DurableEngineLike | undefined;
  private stopInProcessTransport: (() => void) | undefined;
  eventHubs: LocalEventHubs;

  constructor(
    private readonly o: HostPartsOptions,
    /** The first start takes over a listener bound before the app loaded; a restart binds its port number again. */
    private port: number | BoundListener,
  ) {
    this.eventHubs = o.newEventHubs();
  }

  async start(): Promise<void> {
    const o = this.o;
    await this.eventHubs.connect();
    const http = new LocalHttpServer(
      o.invoker,
      {
        routePrefix: o.host.extensions?.http?.routePrefix ?? "api",
        keys: o.keys,
        log: o.log,
        cors: o.cors,
        maxRequestBodyBytes: o.maxRequestBodyBytes,
        hostMaxRequestBodyBytes: o.hostMaxRequestBodyBytes,
        mounts: o.mounts,
      },
      o.resolve,
    );
    this.http = http;
    http.extraRoutes = (req, res, pathname) => o.localMetrics.handle(req, res, pathname);
    http.metricsExtra = async () => ({
      telemetry: await o.localMetrics.json(),
      eventHubs: {
        published: Object.fromEntries(this.eventHubs.published),
        delivered: Object.fromEntries(this.eventHubs.delivered),
        droppedBatches: Object.fromEntries(this.eventHubs.dropped),
      },
    });
    const baseUrl = await http.listen(this.port, o.listenHost);
    this.port = Number(new URL(baseUrl).port); // a restart keeps the port, so URLs handed out stay valid
    // As Core Tools does: without WEBSITE_HOSTNAME the durable client rewrites its management URLs to
    // localhost:7071, which is wrong on any other port.
    process.env.WEBSITE_HOSTNAME = new URL(baseUrl).host;
    if (o.needsDurable) {
      const durable = await o.createDurable({
        core: o.core,
        redisUrl: o.redisUrl,
        prefix: o.prefix,
        taskHub: o.taskHub,
        baseUrl,
        systemKey: o.keys.durableSystemKey,
        masterKey: o.keys.masterKey,
      });
      this.durable = durable;
      o.invoker.durable = durable;
      await durable.start();
      // The app's durable client reaches the engine in process, not over a loopback socket (inProcessTransport.ts).
      if (inProcessTransportWanted()) this.stopInProcessTransport = serveInProcess(`${baseUrl}${DURABLE_WEBHOOK_PREFIX}`, durable);
    }
    this.startTriggers();
  }

  private startTriggers(): void {
    const o = this.o;
    const timers = new LocalTimers(o.invoker, o.log);
    this.timers = timers;
    for (const reg of o.regs) {
      const t = reg.trigger as Record<string, unknown>;
      if (/^eventHubTrigger$/i.test(reg.trigger.type)) {
        this.eventHubs.addConsumer({
          functionName: reg.metadata.name,
          hubName: o.resolve(String(t.eventHubName)),
          consumerGroup: o.resolve(String(t.consumerGroup ?? "$Default")),
          cardinality: String(t.cardinality ?? "many").toLowerCase() === "one" ? "one" : "many",
          retry: retryPolicyOf(reg),
        });
      } else if (/^timerTrigger$/i.test(reg.trigger.type)) {
        timers.add({ functionName: reg.metadata.name, schedule: o.resolve(String(t.schedule)), runOnStartup: Boolean(t.runOnStartup) });
      }
    }
    this.eventHubs.start();
    timers.start();
  }

  /** Graceful: batches in flight finish and are checkpointed. Abrupt (a crash): they are delivered again next start. */
  async stop(abrupt: boolean): Promise<void> {
    await this.timers?.stop();
    const stopping = abrupt ? this.eventHubs.crash() : this.eventHubs.stop();
    this.o.faults.releaseStalls();
    await stopping;
    this.stopInProcessTransport?.();
    this.stopInProcessTransport = undefined;
    await this.durable?.stop();
    this.o.invoker.durable = undefined;
    await this.http?.close();
  }

  /** A host restart: the same port and Redis state, new Event Hubs consumers. */
  async restart(abrupt: boolean): Promise<void> {
    await this.stop(abrupt);
    this.eventHubs = this.o.newEventHubs();
    await this.start();
  }
}
