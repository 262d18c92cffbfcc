/**
 * A local Azure Web PubSub service: one HTTP server for the service REST API (`/api/hubs/...`) and client
 * WebSocket connections (`/client/hubs/{hub}`), with an access key, so that the unmodified
 * `@azure/web-pubsub` and `@azure/web-pubsub-client` work against it from its connection string
 * (`Endpoint=http://127.0.0.1:<port>;AccessKey=<key>;Version=1.0;`). Development and test tool only; what is
 * played and what is not is in README.md beside this file.
 *
 * State lives in memory, as a connection lives only as long as its socket (and, for reliable clients, the
 * recovery window after it).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import { bearerOf, checkClientToken } from "./auth";
import { handleClientFrame } from "./clientMessages";
import { Connection, Hub, JSON_PROTOCOL, RELIABLE_PROTOCOL, type ClientProtocol, type HubLimits } from "./hub";
import { handleRest, readBody, type RestRequest, type RestResponse } from "./restApi";

export interface LocalWebPubSubOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Default: a random key per start. */
  accessKey?: string;
  recoveryWindowMs?: number;
  maxUnacked?: number;
  log?: (msg: string) => void;
}

/** Close code of a refused recovery: "the connectionId has been removed from the service" (the client then starts anew). */
export const SESSION_GONE_CLOSE_CODE = 1008;

export class LocalWebPubSub {
  private readonly hubs = new Map<string, Hub>();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pickProtocol(offered) ?? false });
  private readonly limits: HubLimits;
  readonly accessKey: string;
  private address: AddressInfo | undefined;
  /** Counters for the simulator and tests: connections opened and recovered, REST calls answered (of them over HTTP). */
  readonly counters = { connections: 0, recoveries: 0, restCalls: 0, restCallsOverHttp: 0 };
  /** Fault injection (tests): `refuseUpgrades` answers every WebSocket upgrade 503, as an unreachable service would. */
  readonly faults = { refuseUpgrades: false };

  constructor(private readonly opts: LocalWebPubSubOptions = {}) {
    this.accessKey = opts.accessKey ?? randomBytes(32).toString("base64");
    this.limits = { recoveryWindowMs: opts.recoveryWindowMs ?? 60_000, maxUnacked: opts.maxUnacked ?? 10_000 };
    this.http = createServer((req, res) => {
      this.counters.restCallsOverHttp++;
      const call: RestRequest = {
        method: req.method ?? "GET",
        target: req.url ?? "/",
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
        body: () => readBody(req),
      };
      this.rest(call).then(
        (answer) => {
          if (answer.json === undefined) res.writeHead(answer.status).end();
          else res.writeHead(answer.status, { "Content-Type": "application/json; charset=utf-8" }).end(answer.json);
        },
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    this.http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
  }

  private readonly restContext = {
    accessKey: "",
    hub: (name: string) => this.hub(name),
    existingHub: (name: string) => this.hubs.get(name),
  };

  async start(): Promise<string> {
    this.restContext.accessKey = this.accessKey;
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    this.address = this.http.address() as AddressInfo;
    return this.endpoint;
  }

  get endpoint(): string {
    if (!this.address) throw new Error("the local Web PubSub service is not started");
    const host = this.address.family === "IPv6" ? `[${this.address.address}]` : this.address.address;
    return `http://${host}:${this.address.port}`;
  }

  /** The connection string @azure/web-pubsub parses (Endpoint, AccessKey, Version). */
  get connectionString(): string {
    return `Endpoint=${this.endpoint};AccessKey=${this.accessKey};Version=1.0;`;
  }

  /** One REST call (from the HTTP server, or in process: inProcessClient.ts); an unknown path is 404. */
  async rest(call: RestRequest): Promise<RestResponse> {
    this.counters.restCalls++;
    return (await handleRest(this.restContext, call)) ?? { status: 404, json: JSON.stringify({ code: "NotFound", message: "no such path" }) };
  }

  hub(name: string): Hub {
    let hub = this.hubs.get(name);
    if (!hub) {
      hub = new Hub(name, this.limits);
      this.hubs.set(name, hub);
    }
    return hub;
  }

  async stop(): Promise<void> {
    for (const hub of this.hubs.values()) for (const c of [...hub.connections.values()]) hub.close(c, "the service is stopping");
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://local");
    const m = /^\/client\/hubs\/([^/]+)\/?$/.exec(url.pathname);
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${text}`);
    };
    if (this.faults.refuseUpgrades) return refuse(503, "Service Unavailable");
    if (!m) return refuse(404, "Not Found");
    const hub = this.hub(decodeURIComponent(m[1]!));
    const recoverId = url.searchParams.get("awps_connection_id");
    if (recoverId !== null) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.recover(hub, ws, recoverId, url.searchParams.get("awps_reconnection_token") ?? ""));
      return;
    }
    const claims = checkClientToken(url.searchParams.get("access_token") ?? bearerOf(req.headers.authorization), hub.name, this.accessKey);
    if (!claims.ok) {
      this.opts.log?.(`Web PubSub: refused a client of hub ${hub.name}: ${claims.reason}`);
      return refuse(401, "Unauthorized");
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Connection(hub.name, claims.value.userId, protocolOf(ws.protocol), claims.value.roles, this.limits);
      hub.add(c);
      for (const g of claims.value.groups) hub.join(c, g);
      this.counters.connections++;
      this.attach(hub, c, ws);
    });
  }

  /** A reliable client coming back: same connection, every unacknowledged frame again, in order. */
  private recover(hub: Hub, ws: WebSocket, connectionId: string, token: string): void {
    const c = hub.connections.get(connectionId);
    if (!c || c.protocol !== "reliable" || !c.reconnectionTokenMatches(token)) {
      ws.send(JSON.stringify({ type: "system", event: "disconnected", message: "the connection cannot be recovered: it does not exist any more" }));
      ws.close(SESSION_GONE_CLOSE_CODE, "connection not recoverable");
      return;
    }
    const previous = c.socket;
    if (previous) {
      c.socket = undefined;
      previous.terminate();
    }
    clearTimeout(c.recoveryTimer);
    c.recoveryTimer = undefined;
    this.counters.recoveries++;
    this.attach(hub, c, ws);
    c.replay();
  }

  private attach(hub: Hub, c: Connection, ws: WebSocket): void {
    c.socket = ws;
    c.sendControl({
      type: "system",
      event: "connected",
      userId: c.userId ?? null,
      connectionId: c.connectionId,
      ...(c.protocol === "reliable" ? { reconnectionToken: c.reconnectionToken } : {}),
    });
    ws.on("message", (data, isBinary) => {
      if (c.protocol === "raw") return; // a simple WebSocket client's frames go to upstream handlers: not played
      const violation = isBinary ? "the JSON subprotocols carry text frames only" : handleClientFrame(hub, c, rawDataToString(data));
      if (violation) {
        this.opts.log?.(`Web PubSub: closing ${c.connectionId} (${violation})`);
        c.sendControl({ type: "system", event: "disconnected", message: violation });
        c.socket = undefined;
        hub.remove(c);
        ws.close(SESSION_GONE_CLOSE_CODE, violation.slice(0, 120));
      }
    });
    ws.on("close", () => {
      if (c.socket !== ws) return; // replaced by a recovery, or closed by the service
      c.socket = undefined;
      if (c.protocol !== "reliable") return hub.remove(c);
      c.recoveryTimer = setTimeout(() => hub.remove(c), this.limits.recoveryWindowMs);
      c.recoveryTimer.unref();
    });
    ws.on("error", () => undefined);
  }
}

function pickProtocol(offered: Set<string>): string | undefined {
  for (const p of offered) if (p === JSON_PROTOCOL || p === RELIABLE_PROTOCOL) return p;
  return undefined;
}

function protocolOf(name: string): ClientProtocol {
  return name === RELIABLE_PROTOCOL ? "reliable" : name === JSON_PROTOCOL ? "json" : "raw";
}

function rawDataToString(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

/** Starts a local Web PubSub service (tests, the local runtime). */
export async function startLocalWebPubSub(opts: LocalWebPubSubOptions = {}): Promise<LocalWebPubSub> {
  const service = new LocalWebPubSub(opts);
  await service.start();
  return service;
}
