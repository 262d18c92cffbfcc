/**
 * Our own `@azure/functions-core`: the module the Azure Functions Node worker normally supplies.
 *
 * `@azure/functions` requires `@azure/functions-core` lazily; outside the host that fails and every
 * `app.*` registration is skipped ("test mode"). Installing this shim before the app's modules load makes
 * the library hand us every registration (metadata + callback, durable-wrapped ones included), and lets
 * us invoke them through the library's own ProgrammingModel / InvocationModel, exactly as the worker does.
 *
 * Used by the local runtime (`npm start`) and by the tests. Never loaded by the real host.
 */
import Module from "node:module";
import { randomUUID } from "node:crypto";

/** Binding as the host receives it (RpcBindingInfo), plus any extra properties the library passes through. */
export interface RpcBinding {
  type: string;
  direction?: "in" | "out" | "inout" | string;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBinding>;
  retryOptions?: {
    maxRetryCount?: number;
    retryStrategy?: string;
    delayInterval?: unknown;
    minimumInterval?: unknown;
    maximumInterval?: unknown;
  };
}

export interface Registration {
  metadata: FunctionMetadata;
  callback: (...args: unknown[]) => unknown;
  trigger: RpcBinding & { name: string };
}

/** RpcTypedData, the union the worker uses for every value crossing the host boundary. */
export type RpcTypedData =
  | { string: string }
  | { json: string }
  | { bytes: Uint8Array }
  | { http: Record<string, unknown> }
  | { int: number }
  | { double: number }
  | { collectionString: { string: string[] } }
  | Record<string, unknown>;

export interface InvokeRequest {
  inputData?: { name: string; data: RpcTypedData }[];
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: { retryCount: number; maxRetryCount: number };
}

export interface InvokeResponse {
  returnValue?: RpcTypedData | null;
  outputData: { name: string; data: RpcTypedData }[];
}

export type LogSink = (level: string, category: string, functionName: string, message: string) => void;

interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: unknown): {
    getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
    invokeFunction(context: unknown, inputs: unknown[], handler: (...args: unknown[]) => unknown): Promise<unknown>;
    getResponse(context: unknown, result: unknown): Promise<InvokeResponse>;
  };
}

class Disposable {
  constructor(private readonly fn: () => void) {}
  static from(...items: { dispose(): void }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class FunctionsCore {
  readonly registrations = new Map<string, Registration>();
  private programmingModel: ProgrammingModel | undefined;
  private readonly hooks = new Map<string, ((ctx: Record<string, unknown>) => unknown)[]>();
  logSink: LogSink = (level, category, fn, msg) => {
    if (level === "error" || level === "critical") console.error(`[${fn}] ${msg}`);
    else if (level === "warning") console.warn(`[${fn}] ${msg}`);
  };

  /** The object `require("@azure/functions-core")` returns. */
  readonly api = {
    version: "local",
    hostVersion: "4.1000.0-local",
    Disposable,
    setProgrammingModel: (model: ProgrammingModel) => {
      this.programmingModel = model;
    },
    getProgrammingModel: () => this.programmingModel,
    registerHook: (name: string, cb: (ctx: Record<string, unknown>) => unknown) => {
      const list = this.hooks.get(name) ?? [];
      list.push(cb);
      this.hooks.set(name, list);
      return new Disposable(() => list.splice(list.indexOf(cb), 1));
    },
    registerFunction: (metadata: FunctionMetadata, callback: (...args: unknown[]) => unknown) => {
      if (this.registrations.has(metadata.name)) throw new Error(`A function named "${metadata.name}" is already registered`);
      const entry = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
      if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding`);
      this.registrations.set(metadata.name, { metadata, callback, trigger: { ...entry[1], name: entry[0] } });
      return new Disposable(() => this.registrations.delete(metadata.name));
    },
    log: (level: string, category: string, message: string) => this.logSink(level, category, "worker", message),
  };

  get(name: string): Registration {
    const reg = this.registrations.get(name);
    if (!reg) throw new Error(`No function "${name}" is registered (have: ${[...this.registrations.keys()].join(", ")})`);
    return reg;
  }

  /** Runs app start hooks, as the worker does once after loading the entry point. */
  async start(): Promise<void> {
    for (const hook of this.hooks.get("appStart") ?? []) await hook({ hookData: {}, appHookData: {}, functionAppDirectory: process.cwd() });
  }

  /** Runs app terminate hooks, as the worker does before the host shuts down. */
  async terminate(): Promise<void> {
    for (const hook of this.hooks.get("appTerminate") ?? []) await hook({ hookData: {}, appHookData: {} });
  }

  /** Invokes a registered function the way the worker does: getArguments -> invokeFunction -> getResponse. */
  async invoke(name: string, request: InvokeRequest): Promise<InvokeResponse> {
    const reg = this.get(name);
    if (!this.programmingModel) throw new Error("@azure/functions has not set its programming model (was anything registered?)");
    const invocationId = randomUUID();
    const coreCtx = {
      invocationId,
      request: {
        invocationId,
        functionId: name,
        inputData: request.inputData ?? [],
        triggerMetadata: request.triggerMetadata ?? {},
        retryContext: request.retryContext,
      },
      metadata: reg.metadata,
      state: undefined as string | undefined,
      log: (level: string, category: string, message: string) => this.logSink(level, category, name, message),
    };
    const model = this.programmingModel.getInvocationModel(coreCtx);
    const { context, inputs } = await model.getArguments();
    let handler = reg.callback;
    const hookData = {};
    for (const hook of this.hooks.get("preInvocation") ?? []) {
      const ctx: Record<string, unknown> = { hookData, appHookData: {}, invocationContext: context, inputs, functionCallback: handler };
      await hook(ctx);
      handler = ctx.functionCallback as typeof handler;
    }
    coreCtx.state = "invocation";
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(context, inputs, handler);
    } catch (err) {
      error = err;
    }
    coreCtx.state = "postInvocationHooks";
    for (const hook of this.hooks.get("postInvocation") ?? []) {
      const ctx: Record<string, unknown> = { hookData, appHookData: {}, invocationContext: context, inputs, result, error };
      await hook(ctx);
      result = ctx.result;
      error = ctx.error;
    }
    if (error) throw error;
    return model.getResponse(context, result);
  }
}

let installed: FunctionsCore | undefined;

/**
 * Makes `require("@azure/functions-core")` return our shim. Call before the app's function modules load.
 * Idempotent: the same shim is returned for the life of the process.
 */
export function installFunctionsCore(): FunctionsCore {
  if (installed) return installed;
  const core = new FunctionsCore();
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const originalLoad = mod._load;
  mod._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === "@azure/functions-core") return core.api;
    return originalLoad.call(this, request, parent, isMain);
  };
  installed = core;
  return core;
}

// ---------------------------------------------------------------------------------------------------------
// Conversions between plain values and the host's RPC shapes.

export interface LocalHttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Route parameters; the host parses these from the route template, not the library. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: string | Buffer;
}

export interface LocalHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Parsed JSON body, if it is JSON. */
  json?: unknown;
}

export function toRpcHttpRequest(req: LocalHttpRequest): RpcTypedData {
  const url = new URL(req.url);
  const query = req.query ?? Object.fromEntries(url.searchParams.entries());
  const body = req.body === undefined ? undefined : typeof req.body === "string" ? { string: req.body } : { bytes: new Uint8Array(req.body) };
  return { http: { method: req.method.toUpperCase(), url: req.url, headers: req.headers ?? {}, query, params: req.params ?? {}, body } };
}

export function fromRpcHttpResponse(data: RpcTypedData | null | undefined): LocalHttpResponse {
  const http = (data as { http?: Record<string, unknown> } | null | undefined)?.http;
  if (!http) return { status: 204, headers: {}, body: Buffer.alloc(0) };
  const raw = http.body as { bytes?: Uint8Array; string?: string } | undefined;
  const body = raw?.bytes ? Buffer.from(raw.bytes) : raw?.string !== undefined ? Buffer.from(raw.string) : Buffer.alloc(0);
  const headers = Object.fromEntries(Object.entries((http.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const isJson = body.length > 0 && (headers["content-type"] ?? "").includes("json");
  // Parsed on first read: the host answers with `body` as it is, only tests and tools look at `json`.
  let parsed: { value: unknown } | undefined;
  return {
    status: Number(http.statusCode ?? 200),
    headers,
    body,
    get json(): unknown {
      if (!parsed) {
        try {
          parsed = { value: isJson ? JSON.parse(body.toString("utf8")) : undefined };
        } catch {
          parsed = { value: undefined };
        }
      }
      return parsed.value;
    },
  };
}

/** Invokes an HTTP-triggered function through the library's invocation code and returns a plain response. */
export async function invokeHttp(
  core: FunctionsCore,
  name: string,
  req: LocalHttpRequest,
  /** Other input bindings the host supplies, e.g. the durableClient binding. */
  extraInputData: { name: string; data: RpcTypedData }[] = [],
): Promise<LocalHttpResponse> {
  const reg = core.get(name);
  const response = await core.invoke(name, { inputData: [{ name: reg.trigger.name, data: toRpcHttpRequest(req) }, ...extraInputData] });
  const returnBinding = Object.entries(reg.metadata.bindings).find(([k, b]) => k === "$return" && b.type === "http");
  const out = returnBinding ? response.returnValue : response.outputData.find((o) => reg.metadata.bindings[o.name]?.type === "http")?.data;
  return fromRpcHttpResponse(out);
}
