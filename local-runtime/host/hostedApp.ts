/**
 * What the local runtime needs from the function app it hosts, passed in explicitly (no computed import
 * paths): how to load its registrations, its Event Hubs publisher hook, and the key prefix it stores under.
 * `matchmakerApp` is the product; tests host small sample apps through the same interface.
 */
import { DEFAULTS, SETTING_NAMES } from "../../src/config/settings";
import { MAX_BODY_BYTES } from "../../src/functions/http/request";
import { setEventPublisher } from "../../src/messaging/eventPublisher";
import { setPushHttpClient, type PushHttpClient } from "../../src/messaging/webPubSub";
import type { EventPublisherLike } from "./eventHubs";

export interface HostedApp {
  /** Loads the app: its modules register every function with @azure/functions (the worker loads package.json "main"). */
  load(): Promise<unknown>;
  /** The app's publisher hook: the runtime installs its in-process Event Hubs there (undefined removes them). */
  setEventPublisher(p: EventPublisherLike | undefined): void | Promise<void>;
  /** The app's Web PubSub transport hook: the runtime installs its in-process local service there (undefined removes it). */
  setPushHttpClient?(client: PushHttpClient | undefined): void;
  /** The Redis key prefix the app's own settings resolve to; the runtime keeps its Durable and Event Hubs keys under it too. */
  redisKeyPrefix(env: NodeJS.ProcessEnv): string;
  /** The largest request body any of its HTTP functions accepts: the host refuses more while reading (413). Default: the host's 100 MB. */
  maxRequestBodyBytes?: number;
}

/** The matchmaker (src/index.ts). */
export const matchmakerApp: HostedApp = {
  load: () => import("../../src/index.js"),
  setEventPublisher: (p) => setEventPublisher(p),
  setPushHttpClient: (c) => setPushHttpClient(c),
  // The app's setting with the app's default: the one place the prefix default lives (src/config/settings).
  redisKeyPrefix: (env) => env[SETTING_NAMES.redisKeyPrefix]?.trim() || DEFAULTS.REDIS_KEY_PREFIX,
  maxRequestBodyBytes: MAX_BODY_BYTES,
};
