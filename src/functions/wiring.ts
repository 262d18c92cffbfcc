/**
 * Wiring: the settings, the store and the event publisher, created once per process (a Functions worker
 * keeps them across invocations; a Redis connection per invocation would exhaust the server's connection
 * limit under load), and the Ports a use case gets for one invocation.
 *
 * Every backing service is wrapped so that its failures reach the use cases and the triggers as
 * `Unavailable` (src/usecases/errors.ts): the HTTP layer answers 503, an Event Hub trigger throws so the
 * host re-runs the batch. A store refusal of bad input (StoreInputError) passes through unchanged.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { ConfigError, settings, type Settings } from "../config/settings";
import { eventPublisher, type EventPublisher } from "../messaging/eventPublisher";
import { createRedisConnection, MatchmakingStore } from "../store";
import { ErrorReply } from "redis";
import { PermanentFailure, Unavailable } from "../usecases/errors";
import type { InstanceHistory, Log, MatchRequests, PartyConsents, Ports, Store } from "../usecases/ports";
import { durableInstanceHistory, durableMatchRequests, durablePartyConsents } from "./durable/matchRequests";
import { recordScriptDuration, setStatsSource } from "../telemetry/metrics";

export type { Store } from "../usecases/ports";

type StoreFactory = (s: Settings) => Promise<Store>;

let storePromise: Promise<Store> | undefined;
let storeFactory: StoreFactory | undefined;

/** A store connected as the app settings say (REDIS_CONNECTION_STRING, REDIS_MODE, REDIS_AUTH, ...). */
export async function storeFromSettings(s: Settings, opts: { clock?: () => number } = {}): Promise<MatchmakingStore> {
  if (!s.redisConnectionString) throw new Error("REDIS_CONNECTION_STRING is not set");
  const redis = await createRedisConnection({
    url: s.redisConnectionString,
    mode: s.redisMode, // a cluster takes the URL as its root node
    auth: s.redisAuth,
    entraClientId: s.redisEntraClientId,
  });
  return new MatchmakingStore(redis, {
    prefix: s.redisKeyPrefix,
    modes: s.modes,
    regions: s.regions,
    zones: s.zones,
    serverLeaseSeconds: s.serverLeaseSeconds,
    serverClaimSeconds: s.serverClaimSeconds,
    ticketRetentionSeconds: s.ticketRetentionSeconds,
    ...(opts.clock ? { clock: opts.clock } : {}),
    onScript: recordScriptDuration,
  });
}

/** Settings, with a ConfigError logged once in a form an operator can act on. */
export function appSettings(): Settings {
  try {
    return settings();
  } catch (err) {
    logConfigError(err);
    throw err;
  }
}

let configErrorLogged = false;
function logConfigError(err: unknown): void {
  if (!(err instanceof ConfigError) || configErrorLogged) return;
  configErrorLogged = true;
  console.error(`[matchmaker] ${err.message}\nFix these app settings (local.settings.json locally, Application settings on Azure) and restart.`);
}

/** The store of this process. A failed connection is not cached, so the next invocation tries again. */
export function store(): Promise<Store> {
  if (!storePromise) {
    const s = appSettings();
    const factory = storeFactory ?? storeFromSettings;
    const p = factory(s);
    storePromise = p;
    p.catch(() => {
      if (storePromise === p) storePromise = undefined;
    });
  }
  return storePromise;
}

// The telemetry gauges (waiting players, sessions, servers) read the stats of every region when a reader
// collects, and only then.
setStatsSource(async () => {
  const [s, st] = [appSettings(), await store()];
  return Promise.all(s.regions.map((r) => st.stats(r)));
});

/** Replaces how the store is made (local runtime, tests). Drops the current one. */
export function setStoreFactory(factory: StoreFactory | undefined): void {
  storeFactory = factory;
  storePromise = undefined;
}

/** Closes the store's Redis connection and the Event Hubs producers (app shutdown). */
export async function closeDependencies(): Promise<void> {
  const pending = storePromise;
  storePromise = undefined;
  const closing: Promise<unknown>[] = [eventPublisher().close()];
  if (pending) closing.push(pending.then((s) => s.close()));
  await Promise.allSettled(closing);
}

const isStoreRefusal = (err: unknown): boolean => err instanceof Error && err.name === "StoreInputError";

/**
 * Redis failures a retry cannot fix: a script that errors on this input (a Lua runtime error) or a reply
 * of the wrong shape. Every other failure (connection, timeout, LOADING, BUSY, NOPERM, OOM, ...) is the
 * service being unavailable: the caller retries, and an Event Hub partition waits for it.
 */
function isPermanentStoreFailure(err: unknown): boolean {
  if (err instanceof Error && err.name === "ScriptReplyError") return true;
  return err instanceof ErrorReply && /user_script|Error running script|attempt to /i.test(err.message);
}

/** Durable extension answers a retry cannot change: 400 (bad request) and 413 (too large). 404/410 are handled by the adapter. */
function isPermanentDurableFailure(err: unknown): boolean {
  return err instanceof Error && /unexpected status code: (400|413)\b/.test(err.message);
}

/**
 * `target`'s methods, resolved lazily and with every failure but a refusal turned into Unavailable(service).
 * Lazy: a use case that never touches the store never connects to Redis.
 */
function guarded<T extends object>(
  service: string,
  target: () => Promise<T> | T,
  isRefusal: (err: unknown) => boolean = () => false,
  isPermanent: (err: unknown) => boolean = () => false,
): T {
  return new Proxy({} as T, {
    get(_t, method) {
      if (method === "then") return undefined; // not a promise: `await ports.store` must not call into it
      return async (...args: unknown[]) => {
        try {
          const obj = (await target()) as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>;
          return await obj[method]!(...args);
        } catch (err) {
          if (err instanceof Unavailable || err instanceof PermanentFailure || isRefusal(err)) throw err;
          throw isPermanent(err) ? new PermanentFailure(service, err) : new Unavailable(service, err);
        }
      };
    },
  });
}

let clock: () => number = Date.now;
/** Replaces the use cases' clock (tests that need a ticket to be old). `undefined` goes back to Date.now. */
export function setClock(c: (() => number) | undefined): void {
  clock = c ?? Date.now;
}

/** The ports of one invocation. `durable`: the invocation's durable client, for use cases that need the orchestrations. */
export function portsFor(log: Log, durable?: DurableClient): Ports & { matchRequests: MatchRequests; partyConsents: PartyConsents } {
  const durableClient = (): DurableClient => {
    if (!durable) throw new Error("this function has no durable client input");
    return durable;
  };
  return {
    settings: appSettings(),
    store: guarded<Store>("Redis", store, isStoreRefusal, isPermanentStoreFailure),
    publisher: guarded<EventPublisher>("Event Hubs", eventPublisher),
    clock: () => clock(),
    log,
    matchRequests: guarded<MatchRequests>("the Durable extension", () => durableMatchRequests(durableClient()), undefined, isPermanentDurableFailure),
    partyConsents: guarded<PartyConsents>("the Durable extension", () => durablePartyConsents(durableClient()), undefined, isPermanentDurableFailure),
  };
}

/** A store call of an HTTP handler that needs no use case: Redis failing (connecting included) is a 503 like any backing service. */
export function redisCall<T>(_ctx: unknown, call: (st: Store) => Promise<T>): Promise<T> {
  return call(guarded<Store>("Redis", store, isStoreRefusal, isPermanentStoreFailure));
}

/** Durable clients by their binding data; a handful at most (one per task hub and key in use). */
const durableClients = new Map<string, DurableClient>();
const MAX_DURABLE_CLIENTS = 16;

/**
 * The invocation's durable client (df.getClient), reused for every invocation with the same binding data.
 * getClient builds a new client each time (a deep copy of the binding, every management URL validated, an
 * axios instance), ~5% of the local runtime's CPU at its ceiling, while a host gives every invocation of
 * a process the same data (task hub, URLs, key); the client keeps nothing else between calls.
 */
export function durableClientOf(ctx: InvocationContext): DurableClient {
  const input = ctx.options.extraInputs.find((i) => i.type === "durableClient" || i.type === "orchestrationClient");
  const data = input ? ctx.extraInputs.get(input) : undefined;
  if (data === undefined) return df.getClient(ctx); // its own clear error
  const key = JSON.stringify(data);
  let client = durableClients.get(key);
  if (!client) {
    client = df.getClient(ctx);
    if (durableClients.size >= MAX_DURABLE_CLIENTS) durableClients.clear();
    durableClients.set(key, client);
  }
  return client;
}

/** The orchestrations' housekeeping on an invocation's durable client; its failures are Unavailable like every backing service. */
export function durableHistory(durable: DurableClient): InstanceHistory {
  return guarded<InstanceHistory>("the Durable extension", () => durableInstanceHistory(durable), undefined, isPermanentDurableFailure);
}
