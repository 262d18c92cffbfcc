/**
 * The service REST API (data plane, api-version 2024-12-01 as @azure/web-pubsub 1.2 sends it) for the
 * operations the product and the SDK's common calls use. Paths, methods and status codes are those of
 * the SDK's generated operation specs; errors answer `{code, message}` (the ErrorDetail shape).
 *
 * Played: send to all / user / connection / group (`excluded` honoured), existence (HEAD) of a user,
 * connection or group, add / remove a connection or a user to / from a group, remove from all groups,
 * close a connection / a user's / a group's / all connections, list a group's connections (one page),
 * grant / revoke / check a permission. Not played: OData `filter` (400), `messageTtlSeconds` (ignored),
 * `:addToGroups` / `:removeFromGroups` (filter based), `:generateToken` (only Entra ID callers use it).
 */
import { checkServiceToken } from "./auth";
import type { Connection, Hub, Payload } from "./hub";

export const MAX_MESSAGE_BYTES = 1024 * 1024;
const HUB_PATTERN = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;
const PERMISSIONS = ["joinLeaveGroup", "sendToGroup"] as const;

/**
 * One REST call, whichever way it came (the service's HTTP server, or in process: inProcessClient.ts).
 * `body()` reads the body only when an operation needs it, after the token was checked.
 */
export interface RestRequest {
  method: string;
  /** The request target as sent and signed: path and query. */
  target: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body(): Promise<Buffer>;
}

export interface RestResponse {
  status: number;
  /** JSON text; absent for an empty body. */
  json?: string;
}

export interface RestContext {
  accessKey: string;
  hub(name: string): Hub;
  existingHub(name: string): Hub | undefined;
}

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fail = (status: number, code: string, message: string) => new RestError(status, code, message);

/** A body stream (the HTTP server's request), refused past the service's message size. */
export async function readBody(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const read: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > MAX_MESSAGE_BYTES) throw tooLarge();
    read.push(chunk);
  }
  return Buffer.concat(read);
}

export const tooLarge = () => fail(413, "PayloadTooLarge", `a message may have at most ${MAX_MESSAGE_BYTES} bytes`);

/** A REST message body as the payload clients receive: JSON, text or binary by its Content-Type. */
async function payloadOf(req: RestRequest): Promise<Payload> {
  const body = await req.body();
  const type = (req.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") {
    try {
      return { dataType: "json", data: JSON.parse(body.toString("utf8")) };
    } catch {
      throw fail(400, "InvalidRequest", "the body is not valid JSON");
    }
  }
  if (type === "text/plain") return { dataType: "text", data: body.toString("utf8") };
  if (type === "application/octet-stream") return { dataType: "binary", data: body.toString("base64") };
  throw fail(415, "UnsupportedMediaType", "Content-Type must be application/json, text/plain or application/octet-stream");
}

type Route = {
  method: string;
  pattern: RegExp;
  run: (hub: Hub, params: string[], query: URLSearchParams, req: RestRequest) => Promise<number> | number;
};

const excluded = (q: URLSearchParams) => new Set(q.getAll("excluded"));
const noFilter = (q: URLSearchParams) => {
  if (q.has("filter")) throw fail(400, "NotSupported", "OData filters are not played by the local Web PubSub service");
};
const mustExist = (hub: Hub, id: string): Connection => {
  const c = hub.connections.get(id);
  if (!c) throw fail(404, "NotFound", `connection ${id} does not exist`);
  return c;
};
const permissionOf = (name: string): (typeof PERMISSIONS)[number] => {
  const p = PERMISSIONS.find((x) => x.toLowerCase() === name.toLowerCase());
  if (!p) throw fail(400, "InvalidRequest", `permission must be one of ${PERMISSIONS.join(", ")}`);
  return p;
};
const permissionKey = (p: string, q: URLSearchParams) => (q.get("targetName") ? `${p}.${q.get("targetName")}` : p);

const ROUTES: Route[] = [
  {
    method: "POST",
    pattern: /^:send$/,
    run: async (hub, _p, q, req) => {
      noFilter(q);
      const payload = await payloadOf(req);
      const skip = excluded(q);
      hub.deliverTo(
        [...hub.connections.values()].filter((c) => !skip.has(c.connectionId)),
        { from: "server" },
        payload,
      );
      return 202;
    },
  },
  {
    method: "POST",
    pattern: /^users\/([^/]+)\/:send$/,
    run: async (hub, [user], q, req) => {
      noFilter(q);
      hub.deliverTo(hub.ofUser(user!), { from: "server" }, await payloadOf(req));
      return 202;
    },
  },
  {
    method: "POST",
    pattern: /^connections\/([^/]+)\/:send$/,
    run: async (hub, [id], _q, req) => {
      const payload = await payloadOf(req);
      const c = hub.connections.get(id!);
      if (c) hub.deliverTo([c], { from: "server" }, payload);
      return 202;
    },
  },
  {
    method: "POST",
    pattern: /^groups\/([^/]+)\/:send$/,
    run: async (hub, [group], q, req) => {
      noFilter(q);
      const payload = await payloadOf(req);
      const skip = excluded(q);
      hub.deliverTo(
        hub.ofGroup(group!).filter((c) => !skip.has(c.connectionId)),
        { from: "server" },
        payload,
      );
      return 202;
    },
  },
  { method: "HEAD", pattern: /^users\/([^/]+)$/, run: (hub, [user]) => (hub.ofUser(user!).length ? 200 : 404) },
  { method: "HEAD", pattern: /^connections\/([^/]+)$/, run: (hub, [id]) => (hub.connections.has(id!) ? 200 : 404) },
  { method: "HEAD", pattern: /^groups\/([^/]+)$/, run: (hub, [group]) => (hub.ofGroup(group!).length ? 200 : 404) },
  {
    method: "DELETE",
    pattern: /^connections\/([^/]+)$/,
    run: (hub, [id], q) => {
      const c = hub.connections.get(id!);
      if (c) hub.close(c, q.get("reason") ?? "closed by the server");
      return 204;
    },
  },
  {
    method: "POST",
    pattern: /^:closeConnections$/,
    run: (hub, _p, q) => closeAll(hub, [...hub.connections.values()], q),
  },
  { method: "POST", pattern: /^users\/([^/]+)\/:closeConnections$/, run: (hub, [user], q) => closeAll(hub, hub.ofUser(user!), q) },
  { method: "POST", pattern: /^groups\/([^/]+)\/:closeConnections$/, run: (hub, [group], q) => closeAll(hub, hub.ofGroup(group!), q) },
  {
    method: "PUT",
    pattern: /^groups\/([^/]+)\/connections\/([^/]+)$/,
    run: (hub, [group, id]) => {
      hub.join(mustExist(hub, id!), group!);
      return 200;
    },
  },
  {
    method: "DELETE",
    pattern: /^groups\/([^/]+)\/connections\/([^/]+)$/,
    run: (hub, [group, id]) => {
      const c = hub.connections.get(id!);
      if (c) hub.leave(c, group!);
      return 204;
    },
  },
  {
    method: "DELETE",
    pattern: /^connections\/([^/]+)\/groups$/,
    run: (hub, [id]) => {
      const c = hub.connections.get(id!);
      for (const g of [...(c?.groups ?? [])]) hub.leave(c!, g);
      return 204;
    },
  },
  {
    method: "PUT",
    pattern: /^users\/([^/]+)\/groups\/([^/]+)$/,
    run: (hub, [user, group]) => {
      for (const c of hub.ofUser(user!)) hub.join(c, group!);
      return 200;
    },
  },
  {
    method: "DELETE",
    pattern: /^users\/([^/]+)\/groups\/([^/]+)$/,
    run: (hub, [user, group]) => {
      for (const c of hub.ofUser(user!)) hub.leave(c, group!);
      return 204;
    },
  },
  {
    method: "DELETE",
    pattern: /^users\/([^/]+)\/groups$/,
    run: (hub, [user]) => {
      for (const c of hub.ofUser(user!)) for (const g of [...c.groups]) hub.leave(c, g);
      return 204;
    },
  },
  {
    method: "PUT",
    pattern: /^permissions\/([^/]+)\/connections\/([^/]+)$/,
    run: (hub, [permission, id], q) => {
      mustExist(hub, id!).permissions.add(permissionKey(permissionOf(permission!), q));
      return 200;
    },
  },
  {
    method: "DELETE",
    pattern: /^permissions\/([^/]+)\/connections\/([^/]+)$/,
    run: (hub, [permission, id], q) => {
      hub.connections.get(id!)?.permissions.delete(permissionKey(permissionOf(permission!), q));
      return 204;
    },
  },
  {
    method: "HEAD",
    pattern: /^permissions\/([^/]+)\/connections\/([^/]+)$/,
    run: (hub, [permission, id], q) => {
      const c = hub.connections.get(id!);
      const p = permissionOf(permission!);
      const target = q.get("targetName");
      return c && (target ? c.may(p, target) : c.permissions.has(p)) ? 200 : 404;
    },
  },
];

function closeAll(hub: Hub, targets: Connection[], q: URLSearchParams): number {
  const skip = excluded(q);
  for (const c of targets) if (!skip.has(c.connectionId)) hub.close(c, q.get("reason") ?? "closed by the server");
  return 204;
}

const answer = (status: number, body?: unknown): RestResponse => (body === undefined ? { status } : { status, json: JSON.stringify(body) });

/** Answers a request under /api/hubs/; undefined when the path is not the REST API's. */
export async function handleRest(ctx: RestContext, req: RestRequest): Promise<RestResponse | undefined> {
  const target = req.target;
  const url = new URL(target, "http://local");
  const m = /^\/api\/hubs\/([^/]+)\/?(.*)$/.exec(url.pathname);
  if (!m) return undefined;
  const verb = req.method.toUpperCase();
  try {
    const auth = checkServiceToken(req.authorization, target, ctx.accessKey);
    if (!auth.ok) throw fail(401, "Unauthorized", auth.reason);
    if (!url.searchParams.get("api-version")) throw fail(400, "InvalidRequest", "the api-version query parameter is required");
    const hubName = decodeURIComponent(m[1]!);
    if (!HUB_PATTERN.test(hubName)) throw fail(400, "InvalidRequest", `invalid hub name ${JSON.stringify(hubName)}`);
    const rest = m[2]!;
    if (verb === "GET") {
      const gm = /^groups\/([^/]+)\/connections$/.exec(rest);
      if (gm) {
        const members = ctx.existingHub(hubName)?.ofGroup(decodeURIComponent(gm[1]!)) ?? [];
        return answer(200, { value: members.map((c) => ({ connectionId: c.connectionId, ...(c.userId !== undefined ? { userId: c.userId } : {}) })) });
      }
    }
    for (const route of ROUTES) {
      const rm = route.method === verb ? route.pattern.exec(rest) : null;
      if (!rm) continue;
      const params = rm.slice(1).map((p) => decodeURIComponent(p));
      return answer(await route.run(ctx.hub(hubName), params, url.searchParams, req));
    }
    throw fail(404, "NotFound", `no operation ${verb} ${url.pathname} (see local-runtime/webpubsub/README.md for what is played)`);
  } catch (err) {
    if (err instanceof RestError) return answer(err.status, verb === "HEAD" ? undefined : { code: err.code, message: err.message });
    return answer(500, { code: "InternalServerError", message: (err as Error).message });
  }
}
