/**
 * One trace per ticket, through the OpenTelemetry API tracer `matchmaker`:
 *
 *   POST /api/tickets (server) → send player-requests (producer; `traceparent` in the event properties)
 *   → addPlayers ticket (consumer, parent = that traceparent) → the orchestration and its activity
 *   (the traceparent rides in the orchestrator input) → assign session → send match-made (producer)
 *   → matchMade session (consumer) → ServerReady.
 *
 * A session joins several tickets: its assignment and match-made hop continue the trace of the ticket of
 * the batch that filled it, and every player's `matchRequest` span links to the ServerReady span that
 * reached it. Spans carry `matchmaker.ticket_id`, `matchmaker.player_id`, `matchmaker.session_id` so one
 * player's path is found by id (README: the KQL queries).
 *
 * With telemetry off the API's no-op tracer makes every span here a cheap no-op, and no `traceparent` is
 * written (the no-op propagator injects nothing).
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";

export const TRACER_NAME = "matchmaker";
export const TRACEPARENT = "traceparent";

export const ATTR = {
  ticketId: "matchmaker.ticket_id",
  playerId: "matchmaker.player_id",
  sessionId: "matchmaker.session_id",
  serverId: "matchmaker.server_id",
  mode: "matchmaker.mode",
  region: "matchmaker.region",
  outcome: "matchmaker.outcome",
  players: "matchmaker.players",
  waitSeconds: "matchmaker.wait_seconds",
} as const;

export { SpanKind, SpanStatusCode, type Context, type Span };

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The W3C traceparent of a context (the active one by default); undefined when tracing is off. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier[TRACEPARENT];
}

/** The context a W3C traceparent names (ROOT when absent or malformed). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent });
}

/** A link to the span a traceparent names, if it names one. */
export function linkTo(traceparent: string | undefined, attributes?: Attributes): Link | undefined {
  const sc = trace.getSpanContext(contextOf(traceparent));
  return sc ? { context: sc, attributes } : undefined;
}

/**
 * Runs `fn` in a new active span (child of `parent`, else of the active context), ends it, and records a
 * thrown error on it before rethrowing.
 */
export async function inSpan<T>(name: string, options: SpanOptions & { parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const { parent, ...spanOptions } = options;
  return tracer().startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Sets attributes on the active span (e.g. the ticket id a handler learns after the span began). */
export function annotate(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The W3C traceparent of each message of an Event Hub trigger (from `triggerMetadata.propertiesArray`). */
export function messageTraceparents(triggerMetadata: Record<string, unknown> | undefined, count: number): (string | undefined)[] {
  const many = triggerMetadata?.propertiesArray;
  const one = triggerMetadata?.properties;
  const list: unknown[] = Array.isArray(many) ? many : one !== undefined ? [one] : [];
  const out: (string | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const props = list[i] as Record<string, unknown> | null | undefined;
    const tp = props && typeof props === "object" ? props[TRACEPARENT] : undefined;
    out.push(typeof tp === "string" ? tp : undefined);
  }
  return out;
}

/**
 * The parent of an HTTP request's server span: the caller's `traceparent` header, else the trace context
 * the Functions host passes with the invocation (so the span nests under the host's request on Azure).
 */
export function httpParent(header: string | null | undefined, hostTraceparent: string | null | undefined): Context {
  if (header && trace.getSpanContext(contextOf(header))) return contextOf(header);
  return contextOf(hostTraceparent ?? undefined);
}

/** Event properties with the traceparent of `ctx` added (unless the event already carries one). */
export function withTraceparent(properties: Record<string, string> | undefined, ctx: Context = context.active()): Record<string, string> | undefined {
  if (properties?.[TRACEPARENT]) return properties;
  const tp = traceparentOf(ctx);
  return tp ? { ...properties, [TRACEPARENT]: tp } : properties;
}

/**
 * The trace parent of each message of a batch, found by the message itself, so a batch taken apart
 * (isolatePoison re-runs messages one by one) keeps them.
 */
export class MessageTraces {
  private readonly byMessage = new Map<unknown, string>();

  constructor(messages: readonly unknown[] = [], traceparents: readonly (string | undefined)[] = []) {
    messages.forEach((m, i) => {
      const tp = traceparents[i];
      if (tp) this.byMessage.set(m, tp);
    });
  }

  parentOf(message: unknown): Context {
    return contextOf(this.byMessage.get(message));
  }
}

/** Spans that stay open across the steps of a batch (one per ticket or session), ended together. */
export class OpenSpans {
  private readonly spans = new Map<string, Span>();

  /** Starts the span of `id` (child of `parent`) and returns the context it is active in. */
  begin(id: string, name: string, parent: Context, attributes: Attributes, kind: SpanKind = SpanKind.CONSUMER): Context {
    const span = tracer().startSpan(name, { kind, attributes }, parent);
    this.spans.set(id, span);
    return trace.setSpan(parent, span);
  }

  contextOf(id: string): Context | undefined {
    const span = this.spans.get(id);
    return span ? trace.setSpan(ROOT_CONTEXT, span) : undefined;
  }

  annotate(id: string, attributes: Attributes): void {
    this.spans.get(id)?.setAttributes(attributes);
  }

  endAll(): void {
    for (const span of this.spans.values()) span.end();
    this.spans.clear();
  }
}

/**
 * One `assign session` span per assignment (child of the trace that filled the session, else of the
 * active context), ended at once; the answer is each session's traceparent for its match-made event.
 */
export function assignmentTraceparents(
  assignments: readonly { sessionId: string; serverId: string; mode: string; region: string; players: readonly { playerId: string; ticketId: string }[] }[],
  parentOf: (ticketIds: readonly string[]) => Context | undefined,
  startTime: number,
): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const a of assignments) {
    const ticketIds = a.players.map((p) => p.ticketId);
    const parent = parentOf(ticketIds) ?? context.active();
    const span = tracer().startSpan(
      "assign session",
      {
        kind: SpanKind.INTERNAL,
        startTime,
        attributes: {
          [ATTR.sessionId]: a.sessionId,
          [ATTR.serverId]: a.serverId,
          [ATTR.mode]: a.mode,
          [ATTR.region]: a.region,
          [ATTR.players]: a.players.length,
          [ATTR.ticketId]: ticketIds,
        },
      },
      parent,
    );
    out.set(a.sessionId, traceparentOf(trace.setSpan(parent, span)));
    span.end();
  }
  return out;
}
