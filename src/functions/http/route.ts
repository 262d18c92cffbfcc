/** Registration of the API routes: one function per route, every method reaches it, so the ones it does not serve get a JSON 405. */
import { app, type HttpFunctionOptions, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { errorAnswer, httpError, json } from "./respond";
import { httpParent, inSpan, SpanKind, SpanStatusCode } from "../../telemetry/tracing";

/** Every method an API route is registered for; the ones a route does not serve get our JSON 405. */
const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type RouteMethod = (typeof ROUTE_METHODS)[number];

export type Handler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Dispatches by method (405 with Allow for others) and turns whatever a handler throws into its answer
 * (respond.ts), inside the request's server span (the root of a ticket's trace).
 */
function route(template: string, handlers: Partial<Record<RouteMethod, Handler>>): Handler {
  const dispatch = dispatcher(handlers);
  return (req, ctx) =>
    inSpan(
      `${req.method.toUpperCase()} ${template}`,
      {
        kind: SpanKind.SERVER,
        parent: httpParent(req.headers.get("traceparent"), ctx.traceContext?.traceParent),
        attributes: { "http.request.method": req.method.toUpperCase(), "http.route": template, "url.path": new URL(req.url).pathname },
      },
      async (span) => {
        const answer = await dispatch(req, ctx);
        span.setAttribute("http.response.status_code", answer.status ?? 200);
        if ((answer.status ?? 200) >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return answer;
      },
    );
}

function dispatcher(handlers: Partial<Record<RouteMethod, Handler>>): Handler {
  const allowed = Object.keys(handlers).join(", ");
  return async (req, ctx) => {
    const method = req.method.toUpperCase();
    const handler = Object.prototype.hasOwnProperty.call(handlers, method) ? handlers[method as RouteMethod] : undefined;
    if (!handler) {
      const e = httpError(405, "method_not_allowed", `use ${allowed}`, {}, { Allow: allowed });
      return json(e.status, e.body, e.headers);
    }
    try {
      return await handler(req, ctx);
    } catch (err) {
      return errorAnswer(err, ctx, `${req.method} ${req.url}`);
    }
  };
}

/** Registers an API function: every ROUTE_METHODS method reaches route(handlers), so others get the JSON 405. */
export function httpRoute(name: string, options: Omit<HttpFunctionOptions, "methods" | "handler">, handlers: Partial<Record<RouteMethod, Handler>>): void {
  app.http(name, { ...options, methods: [...ROUTE_METHODS], handler: route(options.route ?? name, handlers) });
}
