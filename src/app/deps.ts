/**
 * Dependency wiring: the settings, the store and the event publisher every function uses, created once
 * per process (a Functions worker keeps them across invocations; a Redis connection per invocation
 * would exhaust the server's connection limit under load).
 */
import { ConfigError, settings, type Settings } from "../config/settings";
import { eventPublisher, type EventPublisher } from "../messaging/eventPublisher";
import type { MatchmakingStore } from "../store";
import { storeFromSettings } from "./storeFromSettings";

/** The store operations the functions use: the MatchmakingStore's own signatures (a fake needs only these). */
export type Store = Pick<
  MatchmakingStore,
  | "enqueue"
  | "leave"
  | "assign"
  | "claimUnannounced"
  | "confirmAnnounced"
  | "registerServer"
  | "releaseServer"
  | "deregisterServer"
  | "expireServers"
  | "expireStale"
  | "getPlayer"
  | "getServer"
  | "listServers"
  | "stats"
  | "deadLetter"
  | "listDeadLetters"
  | "close"
>;

type StoreFactory = (s: Settings) => Promise<Store>;

let storePromise: Promise<Store> | undefined;
let storeFactory: StoreFactory | undefined;

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

/** Replaces how the store is made (local runtime, tests). Drops the current one. */
export function setStoreFactory(factory: StoreFactory | undefined): void {
  storeFactory = factory;
  storePromise = undefined;
}

export function publisher(): EventPublisher {
  return eventPublisher();
}

/** Closes the store's Redis connection and the Event Hubs producers (app shutdown). */
export async function closeDependencies(): Promise<void> {
  const pending = storePromise;
  storePromise = undefined;
  const closing: Promise<unknown>[] = [eventPublisher().close()];
  if (pending) closing.push(pending.then((s) => s.close()));
  await Promise.allSettled(closing);
}
