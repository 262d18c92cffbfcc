/**
 * Dependency wiring: the settings, the store and the event publisher every function uses, created once
 * per process (a Functions worker keeps them across invocations; a Redis connection per invocation
 * would exhaust the server's connection limit under load).
 */
import { ConfigError, settings, type Settings } from "../config/settings";
import type {
  Assignment,
  AssignResult,
  DeregisterResult,
  EnqueueBatchResult,
  EnqueueRequest,
  ExpireServersResult,
  ExpireStaleResult,
  LeaveRequest,
  LeaveResult,
  PlayerView,
  RegionStats,
  RegisterResult,
  ReleaseResult,
  ServerAllocation,
  ServerRecord,
} from "../store/types";
import { eventPublisher, type EventPublisher } from "../messaging/eventPublisher";
import { storeFromSettings } from "../store";

/** The store operations the functions use (the MatchmakingStore of src/store satisfies it). */
export interface Store {
  enqueue(requests: EnqueueRequest[]): Promise<EnqueueBatchResult>;
  leave(requests: LeaveRequest[]): Promise<LeaveResult[]>;
  assign(region: string, opts?: { maxSessions?: number }): Promise<AssignResult>;
  claimUnannounced(region: string, opts: { olderThanMs: number; max?: number }): Promise<Assignment[]>;
  confirmAnnounced(region: string, sessionIds: string[]): Promise<void>;
  registerServer(i: { serverId: string; region: string; address: string }): Promise<RegisterResult>;
  releaseServer(i: { serverId: string; region: string; sessionId?: string }): Promise<ReleaseResult>;
  deregisterServer(i: { serverId: string; region: string }): Promise<DeregisterResult>;
  expireServers(region: string): Promise<ExpireServersResult>;
  expireStale(region: string, o: { playerMaxAgeMs: number; sessionMaxAgeMs: number }): Promise<ExpireStaleResult>;
  getPlayer(region: string, playerId: string): Promise<PlayerView | null>;
  getServer(region: string, serverId: string): Promise<ServerAllocation | null>;
  listServers(region: string): Promise<ServerRecord[]>;
  stats(region: string): Promise<RegionStats>;
  deadLetter(source: string, entries: { body: string; error: string; detail: string }[]): Promise<void>;
  listDeadLetters(source: string, count?: number): Promise<{ id: string; body: string; error: string; detail: string; at: string }[]>;
  close(): Promise<void>;
}

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
export function logConfigError(err: unknown): void {
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

/** Forgets the store (tests that switch Redis prefixes); the caller closes connections it made. */
export function resetStore(): void {
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

/** Compile-time check that the real store satisfies the operations the functions rely on. */
export const storeSatisfiesPort: (s: import("../store").MatchmakingStore) => Store = (s) => s;
