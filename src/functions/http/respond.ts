/**
 * HTTP answers: JSON bodies, and the rule that bad input gets a 4xx `{error, detail}` and never a 500.
 * A use case's Refusal maps to its status here; a backing service failing (Unavailable) is a 503.
 */
import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import { ConfigError } from "../../config/settings";
import type { ErrorBody } from "../../domain/types";
import type { Validated } from "../../domain/validation";
import { describeError, Refusal, Unavailable, type RefusalKind } from "../../usecases/errors";

/** An answer that ends the request early: HTTP-level refusals (405, 413, 415) and anything a route throws on purpose. */
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

export function fromValidated<T>(v: Validated<T>, status = 400): T {
  if (!v.ok) throw new HttpError(status, { ...v.error });
  return v.value;
}

const STATUS_OF: Record<RefusalKind, number> = { invalid: 400, unauthorized: 401, forbidden: 403, notFound: 404, conflict: 409, tooManyRequests: 429 };

/** The store refuses bad input to single-entity calls with a StoreInputError carrying the 4xx body. */
function isStoreInputError(err: unknown): err is Error & { error: string; detail: string } {
  return err instanceof Error && err.name === "StoreInputError" && typeof (err as { error?: unknown }).error === "string";
}

/** The answer for whatever a handler threw. Only a bug of ours is a 500, and it leaks no internals. */
export function errorAnswer(err: unknown, ctx: Pick<InvocationContext, "error" | "invocationId">, what: string): HttpResponseInit {
  if (err instanceof HttpError) return json(err.status, err.body, err.headers);
  if (err instanceof Refusal) return json(STATUS_OF[err.kind], err.body, err.headers);
  if (isStoreInputError(err)) return json(400, { error: err.error, detail: err.detail });
  if (err instanceof Unavailable) {
    ctx.error(`${err.service} failed: ${describeError(err.cause)}${err.cause instanceof Error && err.cause.stack ? `\n${err.cause.stack}` : ""}`);
    return json(503, { error: "unavailable", detail: `${err.service} is unavailable; retry later` }, { "Retry-After": "2" });
  }
  if (err instanceof ConfigError) {
    ctx.error(err.message);
    return json(500, { error: "configuration_error", detail: "the matchmaker is misconfigured; see the function logs" });
  }
  ctx.error(`${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return json(500, { error: "internal_error", detail: `unexpected failure (invocation ${ctx.invocationId})` });
}
