/**
 * How a use case says no. A refusal names its kind (the HTTP layer maps kinds to status codes, an Event
 * Hub trigger dead-letters the message) and carries the `{error, detail}` body of DESIGN.md section 3.
 * A backing service failing (Redis, Event Hubs, the Durable extension) is an Unavailable: not the
 * caller's fault, retried (HTTP 503, or the trigger throws so the host re-runs the batch).
 */
import type { ErrorBody } from "../domain/types";
import type { Validated } from "../domain/validation";

export type RefusalKind = "invalid" | "unauthorized" | "forbidden" | "notFound" | "conflict" | "tooManyRequests";

export class Refusal extends Error {
  readonly body: ErrorBody & Record<string, unknown>;
  constructor(
    readonly kind: RefusalKind,
    error: string,
    detail: string,
    extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(`${kind} ${error}: ${detail}`);
    this.name = "Refusal";
    this.body = { error, detail, ...extra };
  }
}

export const refuse = (kind: RefusalKind, error: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Refusal(kind, error, detail, extra, headers);

/** The value of a validation, or a Refusal of the given kind. */
export function accept<T>(v: Validated<T>, kind: RefusalKind = "invalid"): T {
  if (!v.ok) throw new Refusal(kind, v.error.error, v.error.detail);
  return v.value;
}

export class Unavailable extends Error {
  constructor(
    readonly service: string,
    override readonly cause: unknown,
  ) {
    super(`${service} is unavailable: ${describeError(cause)}`);
    this.name = "Unavailable";
  }
}

/** An error with its causes (AggregateError's inner errors, `cause` chains), for the log. */
export function describeError(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.message || err.name;
  if (depth > 3) return text;
  if (err instanceof AggregateError && err.errors.length) text += ` [${err.errors.map((e) => describeError(e, depth + 1)).join("; ")}]`;
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== err) text += ` (cause: ${describeError(cause, depth + 1)})`;
  return text;
}

/**
 * A backing service answered, and its answer will be the same next time (a script that errors on this
 * input, a reply of the wrong shape, a 400 from the Durable extension): retrying cannot help, so an
 * Event Hub trigger dead-letters the message instead of blocking its partition.
 */
export class PermanentFailure extends Error {
  constructor(
    readonly service: string,
    override readonly cause: unknown,
  ) {
    super(`${service} refused the call: ${describeError(cause)}`);
    this.name = "PermanentFailure";
  }
}
