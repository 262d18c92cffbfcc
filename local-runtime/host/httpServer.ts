/**
 * The host's HTTP front: routes every httpTrigger by its route template (under the route prefix, "api" by
 * default), its methods and its auth level, and hands `/runtime/webhooks/durabletask/*` to the Durable engine.
 *
 * Auth levels, as on Azure: "anonymous" needs nothing; "function" needs a function key or the master key;
 * "admin" needs the master key. The key comes in the `x-functions-key` header or the `code` query parameter.
 * Locally the keys are app settings (local.settings.json Values): LOCAL_FUNCTION_KEY and LOCAL_MASTER_KEY.
 *
 * Answers: 401 without a valid key, 404 for no route, 405 when a route matches but not the method
 * (with `Allow`), 500 with an empty body when the function throws (the host hides the error from clients).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { invokeHttp, type FunctionsCore } from "../functionsCore";
import type { Invoker } from "./invoker";
import { compileRoute, matchRoute, pathParts, type CompiledRoute } from "./routes";
import type { Socket } from "node:net";
import type { MountedHandler } from "./services";

/** A body over the limit: the request is refused as soon as the limit is passed, without reading the rest. */
class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body is over ${limit} bytes`);
  }
}

/** Reads a body up to `limit` bytes (declared Content-Length checked first), never buffering more. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new BodyTooLarge(limit);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function underPrefix(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, "");
  return path === p || path.startsWith(`${p}/`);
}

export interface HttpRouteInfo {
  functionName: string;
  route: CompiledRoute;
  methods: string[] | undefined;
  authLevel: "anonymous" | "function" | "admin";
}

export interface HttpKeys {
  functionKeys: string[];
  masterKey: string;
  /** The durabletask_extension system key the Durable webhooks require (the master key works too). */
  durableSystemKey: string;
}

export interface HttpServerOptions {
  routePrefix: string;
  keys: HttpKeys;
  /** Allowed browser origins, as local.settings.json Host.CORS ("*" or a comma-separated list). */
  cors?: string;
  log?: (msg: string) => void;
  /** Largest body the app's routes accept: refused while reading, 413 and the connection closed. */
  maxRequestBodyBytes?: number;
  /** Largest body anywhere else (the Durable webhooks): the host's limit. */
  hostMaxRequestBodyBytes?: number;
  /** Extra services' handlers (services.ts), matched before the app's routes. */
  mounts?: MountedHandler[];
}

export const DURABLE_WEBHOOK_PREFIX = "/runtime/webhooks/durabletask";
/** Counters of the local runtime (invocations, Durable episodes, Event Hubs), for the simulator. Local only. */
export const LOCAL_METRICS_PATH = "/runtime/local/metrics";

export function httpRoutesOf(core: FunctionsCore, resolve: (s: string) => string = (s) => s): HttpRouteInfo[] {
  const routes: HttpRouteInfo[] = [];
  for (const [name, reg] of core.registrations) {
    if (!/^httpTrigger$/i.test(reg.trigger.type)) continue;
    const t = reg.trigger as { route?: string; methods?: string[]; authLevel?: string };
    const methods = t.methods?.length ? t.methods.map((m) => m.toUpperCase()) : undefined;
    const authLevel = (String(t.authLevel ?? "anonymous").toLowerCase() as HttpRouteInfo["authLevel"]) || "anonymous";
    routes.push({ functionName: name, route: compileRoute(resolve(t.route ?? name)), methods, authLevel });
  }
  return routes.sort((a, b) => b.route.precedence - a.route.precedence);
}

function keyMatches(given: string, keys: string[]): boolean {
  const g = Buffer.from(given);
  return keys.some((k) => {
    const kb = Buffer.from(k);
    return k !== "" && kb.length === g.length && timingSafeEqual(kb, g);
  });
}

/** The public origin of a listener on `host`:`port`. */
export function originOf(host: string, port: number): string {
  return `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${port}`;
}

/** A port bound before the app loads, so that settings the app reads can name the runtime's origin (the development issuer's `iss`). */
export interface BoundListener {
  server: NetServer;
  origin: string;
  close(): void;
}

export async function bindListener(port: number, host: string): Promise<BoundListener> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    origin: originOf(host, (server.address() as AddressInfo).port),
    close: () => {
      if (server.listening) server.close();
    },
  };
}

/**
 * As Azure's front end does for every request it forwards: the caller's address, `ip:port` (`[ip]:port` for
 * IPv6), appended to X-Forwarded-For, so the app sees the client address where it does on Azure (its last entry;
 * @azure/functions' HttpRequest has no client-address property).
 */
function forwardedFor(given: string | undefined, socket: Socket): string | undefined {
  const ip = (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  if (!ip) return given;
  const entry = ip.includes(":") ? `[${ip}]:${socket.remotePort}` : `${ip}:${socket.remotePort}`;
  return given ? `${given}, ${entry}` : entry;
}

export class LocalHttpServer {
  readonly routes: HttpRouteInfo[];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  baseUrl = "";

  /** Extra counters merged into the metrics answer (Event Hubs, set by the runtime). */
  metricsExtra: () => Record<string, unknown> | Promise<Record<string, unknown>> = () => ({});
  /** Routes mounted by other parts of the local runtime (the metrics' Prometheus page); true when answered. */
  extraRoutes: (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean> = async () => false;

  constructor(
    private readonly invoker: Invoker,
    private readonly opts: HttpServerOptions,
    resolve?: (s: string) => string,
  ) {
    this.routes = httpRoutesOf(invoker.core, resolve);
  }

  private get prefix(): string {
    const p = this.opts.routePrefix.replace(/^\/+|\/+$/g, "");
    return p ? `/${p}` : "";
  }

  /** Public URL of a route template, for the banner. */
  urlOf(r: HttpRouteInfo): string {
    return `${this.baseUrl}${this.prefix}/${r.route.template.replace(/^\/+/, "")}`;
  }

  /** `port` may be a listener bound beforehand (bindListener): its socket is taken over, so the origin never changes. */
  async listen(port: number | BoundListener, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (err instanceof BodyTooLarge) return this.refuseBody(req, res, err.limit);
        this.opts.log?.(`HTTP ${req.method} ${req.url}: ${err.stack ?? err.message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const path = new URL(req.url ?? "/", "http://local").pathname;
      const mount = this.opts.mounts?.find((m) => m.upgrade && underPrefix(path, m.pathPrefix));
      if (mount?.upgrade) mount.upgrade(req, socket, head);
      else socket.destroy();
    });
    server.keepAliveTimeout = 5_000;
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (typeof port === "number") server.listen(port, host, () => resolve());
      else server.listen(port.server, () => resolve());
    });
    this.server = server;
    this.baseUrl = originOf(host, (server.address() as AddressInfo).port);
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  /** 413 with the error shape, then the connection is closed so the rest of the body is never read. */
  private refuseBody(req: IncomingMessage, res: ServerResponse, limit: number): void {
    const socket = req.socket ?? res.socket;
    if (res.headersSent) {
      socket?.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    this.send(res, 413, { error: "body_too_large", detail: `the request body may have at most ${limit} bytes` }, { connection: "close" });
    // Node closes it after a "connection: close" answer too; destroying it also drops what the client still sends.
    res.once("finish", () => socket?.destroy());
  }

  private corsHeaders(origin: string | undefined): Record<string, string> {
    const allowed = (this.opts.cors ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    if (!origin || !allowed.length) return {};
    if (!allowed.includes("*") && !allowed.includes(origin)) return {};
    return {
      "access-control-allow-origin": allowed.includes("*") ? "*" : origin,
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": "content-type, authorization, x-functions-key",
      "access-control-expose-headers": "location, retry-after",
      vary: "Origin",
    };
  }

  private send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const h: Record<string, string> = { ...headers, ...this.corsHeaders(res.req?.headers.origin) };
    if (payload && body !== undefined && !Buffer.isBuffer(body)) h["content-type"] = "application/json; charset=utf-8";
    res.writeHead(status, h);
    res.end(payload);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? this.baseUrl.replace(/^https?:\/\//, "");
    let url: URL;
    try {
      url = new URL(req.url ?? "/", `http://${host}`);
    } catch {
      // As the real host's Kestrel front end does: a Host that is no host[:port] is the client's error.
      return this.send(res, 400, { error: "invalid_host", detail: `the Host header ${JSON.stringify(host.slice(0, 100))} is not a host[:port]` });
    }
    const method = (req.method ?? "GET").toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    const xff = forwardedFor(headers["x-forwarded-for"], req.socket);
    if (xff) headers["x-forwarded-for"] = xff;

    // CORS preflight, answered by the host as Core Tools does when Host.CORS is set.
    if (method === "OPTIONS" && headers.origin && headers["access-control-request-method"] && this.opts.cors) {
      return this.send(res, 204);
    }

    const mount = this.opts.mounts?.find((m) => m.request && underPrefix(url.pathname, m.pathPrefix));
    if (mount?.request) return mount.request(req, res);

    if (url.pathname === LOCAL_METRICS_PATH && method === "GET") {
      return this.send(res, 200, {
        invocations: Object.fromEntries(this.invoker.invocations),
        failures: Object.fromEntries(this.invoker.failures),
        durable: this.invoker.durable?.metrics() ?? null,
        ...(await this.metricsExtra()),
      });
    }
    if (await this.extraRoutes(req, res, url.pathname)) return;

    if (url.pathname === DURABLE_WEBHOOK_PREFIX || url.pathname.startsWith(`${DURABLE_WEBHOOK_PREFIX}/`)) {
      const durable = this.invoker.durable;
      if (!durable) return this.send(res, 404, { error: "notFound", detail: `No Durable endpoint at ${url.pathname}` });
      // The key is checked before the body is read: an unauthorized request costs nothing.
      if (!durable.isAuthorized({ url: url.toString(), headers })) {
        return this.send(res, 401, {
          error: "unauthorized",
          detail: "the Durable webhooks need the system key (code query parameter or x-functions-key header)",
        });
      }
      const body = await readBody(req, this.opts.hostMaxRequestBodyBytes ?? Number.MAX_SAFE_INTEGER);
      const out = await durable.handleHttp({ method, url: url.toString(), headers, body: body.length ? body : undefined });
      if (!out) return this.send(res, 404, { error: "notFound", detail: `No Durable endpoint at ${url.pathname}` });
      return this.send(res, out.status, out.body, out.headers);
    }

    const prefix = this.prefix;
    const path = url.pathname;
    if (prefix && !(path.toLowerCase() === prefix || path.toLowerCase().startsWith(`${prefix}/`))) {
      return this.send(res, 404, { error: "notFound", detail: `No function at ${path}` });
    }
    const rest = path.slice(prefix.length);
    let allowed: string[] = [];
    let matched: { info: HttpRouteInfo; params: Record<string, string> } | undefined;
    const parts = pathParts(rest); // split and decoded once, not once per route
    for (const info of this.routes) {
      const params = matchRoute(info.route, parts);
      if (!params) continue;
      if (!info.methods || info.methods.includes(method)) {
        matched = { info, params };
        break;
      }
      allowed = allowed.concat(info.methods);
    }
    if (!matched) {
      if (allowed.length)
        return this.send(res, 405, { error: "methodNotAllowed", detail: `${method} is not allowed on ${path}` }, { allow: [...new Set(allowed)].join(", ") });
      return this.send(res, 404, { error: "notFound", detail: `No function at ${path}` });
    }
    const { info, params } = matched;
    if (info.authLevel !== "anonymous") {
      const given = headers["x-functions-key"] ?? url.searchParams.get("code") ?? "";
      const accepted = info.authLevel === "admin" ? [this.opts.keys.masterKey] : [...this.opts.keys.functionKeys, this.opts.keys.masterKey];
      if (!given || !keyMatches(given, accepted)) return this.send(res, 401);
    }
    const body = await readBody(req, this.opts.maxRequestBodyBytes ?? Number.MAX_SAFE_INTEGER);
    const reg = this.invoker.core.get(info.functionName);
    let out;
    try {
      out = await invokeHttp(
        this.invoker.core,
        info.functionName,
        { method, url: url.toString(), headers, params, query: Object.fromEntries(url.searchParams.entries()), body: body.length ? body : undefined },
        this.invoker.extraInputData(reg),
      );
      this.invoker.count(info.functionName, false);
    } catch (err) {
      this.invoker.count(info.functionName, true);
      this.opts.log?.(`[${info.functionName}] ${method} ${path} threw: ${(err as Error).stack ?? (err as Error).message}`);
      return this.send(res, 500);
    }
    return this.send(res, out.status, out.body, out.headers);
  }
}
