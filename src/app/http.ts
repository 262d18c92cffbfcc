/**
 * HTTP plumbing shared by the API functions: JSON bodies with size and content-type limits, method
 * checks, and the rule that bad input gets a 4xx `{error, detail}` and never a 500.
 */
import { app, type HttpFunctionOptions, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import type { ErrorBody } from "../domain/types";
import { ConfigError } from "../config/settings";
import { checkSchema, type ValidatorName } from "./schemas";
import { store, type Store } from "./deps";

export const MAX_BODY_BYTES = 4096;

/** Every method an API route is registered for; the ones a route does not serve get our JSON 405. */
const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type RouteMethod = (typeof ROUTE_METHODS)[number];

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody & Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${body.error}: ${body.detail}`);
  }
}

export const httpError = (status: number, error: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new HttpError(status, { error, detail, ...extra }, headers);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers } };
}

function errorResponse(e: HttpError): HttpResponseInit {
  return json(e.status, e.body, e.headers);
}

/**
 * Awaits a call to a backing service (Redis, Event Hubs, the Durable extension). A failure there is not
 * the client's fault and not a bug of ours: 503 with Retry-After, details only in the log.
 */
export async function dependency<T>(what: string, call: Promise<T>, ctx: Pick<InvocationContext, "error">): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof HttpError || isStoreInputError(err)) throw err;
    ctx.error(`${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    throw httpError(503, "unavailable", `${what} is unavailable; retry later`, {}, { "Retry-After": "2" });
  }
}

/** A store call of a handler: Redis failing, connecting included, is a 503 like any backing service. */
export function redisCall<T>(ctx: Pick<InvocationContext, "error">, call: (st: Store) => Promise<T>): Promise<T> {
  return dependency("Redis", store().then(call), ctx);
}

/** The store refuses bad input to single-entity calls with a StoreInputError carrying the 4xx body. */
function isStoreInputError(err: unknown): err is Error & { error: string; detail: string } {
  return err instanceof Error && err.name === "StoreInputError" && typeof (err as { error?: unknown }).error === "string";
}

type Handler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Wraps a route: dispatches by method (405 with Allow for others), maps HttpError to its answer and any
 * other failure to a 500 that does not leak internals (backing-service failures are 503s, see dependency()).
 */
function route(handlers: Partial<Record<RouteMethod, Handler>>): (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit> {
  const allowed = Object.keys(handlers).join(", ");
  return async (req, ctx) => {
    const handler = handlers[req.method.toUpperCase() as RouteMethod];
    if (!handler) return errorResponse(httpError(405, "method_not_allowed", `use ${allowed}`, {}, { Allow: allowed }));
    try {
      return await handler(req, ctx);
    } catch (err) {
      if (err instanceof HttpError) return errorResponse(err);
      if (isStoreInputError(err)) return errorResponse(httpError(400, err.error, err.detail));
      if (err instanceof ConfigError) {
        ctx.error(err.message);
        return json(500, { error: "configuration_error", detail: "the matchmaker is misconfigured; see the function logs" });
      }
      ctx.error(`${req.method} ${req.url} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return json(500, { error: "internal_error", detail: `unexpected failure (invocation ${ctx.invocationId})` });
    }
  };
}

/** Registers an API function: every ROUTE_METHODS method reaches route(handlers), so others get the JSON 405. */
export function httpRoute(name: string, options: Omit<HttpFunctionOptions, "methods" | "handler">, handlers: Partial<Record<RouteMethod, Handler>>): void {
  app.http(name, { ...options, methods: [...ROUTE_METHODS], handler: route(handlers) });
}

/**
 * Reads a JSON body: 415 unless Content-Type is JSON, 413 over MAX_BODY_BYTES, 400 if malformed, then
 * the published schema. `optional`: an empty body yields `undefined`.
 */
export async function readJson<T>(req: HttpRequest, schema: ValidatorName, opts: { optional?: boolean } = {}): Promise<T | undefined> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw httpError(413, "body_too_large", `the body may have at most ${MAX_BODY_BYTES} bytes`);
  const raw = Buffer.from(await req.arrayBuffer());
  if (raw.length > MAX_BODY_BYTES) throw httpError(413, "body_too_large", `the body may have at most ${MAX_BODY_BYTES} bytes`);
  if (raw.length === 0) {
    if (opts.optional) return undefined;
    throw httpError(400, "missing_body", "a JSON body is required");
  }
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) {
    throw httpError(415, "unsupported_media_type", `send the body as application/json (got ${JSON.stringify(type || "no Content-Type")})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw httpError(400, "malformed_json", `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = checkSchema(schema, body, "the body");
  if (problem) throw new HttpError(400, { ...problem });
  return body as T;
}

export function fromValidated<T>(v: { ok: true; value: T } | { ok: false; error: ErrorBody }, status = 400): T {
  if (!v.ok) throw new HttpError(status, { ...v.error });
  return v.value;
}

/** The origin a client used, for links in answers (the host passes the original URL). */
export function origin(req: HttpRequest): string {
  return new URL(req.url).origin;
}
