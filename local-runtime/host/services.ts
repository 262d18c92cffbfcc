/**
 * Extra local services the runtime can host next to the app (a Web PubSub emulator, a development
 * identity issuer, ...), without editing the runtime: each one is started after Redis and the HTTP server
 * are up, may mount HTTP handlers under a path prefix of the host's server (plain Node request/response,
 * plus WebSocket upgrades), may listen on its own ports, may set app settings before the app loads
 * (`configure`), and is stopped before the runtime's own parts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export interface MountedHandler {
  /** Path prefix on the host's server, e.g. "/runtime/local/webpubsub". Matched on whole segments. */
  pathPrefix: string;
  /** Plain HTTP; the body is not read yet (the handler reads it, within its own limits). */
  request?(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
  /** WebSocket (or other) upgrades under the prefix. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface ServiceContext {
  /** The host's public origin, e.g. http://127.0.0.1:7071. */
  baseUrl: string;
  redisUrl: string;
  /** The app's key prefix: keep service keys under `<prefix>:<service name>:`. */
  prefix: string;
  log(message: string): void;
}

export interface StartedService {
  /** Lines for the start-up banner. */
  banner?: string[];
  stop(): Promise<void>;
}

export interface LocalService {
  name: string;
  /** Runs before the app loads, after settings are in the environment: e.g. set the settings the app reads to find the service. */
  configure?(env: NodeJS.ProcessEnv): void | Promise<void>;
  /** HTTP handlers to mount on the host's server (known before it listens). */
  mounts?: MountedHandler[];
  start?(ctx: ServiceContext): Promise<StartedService | void>;
}
