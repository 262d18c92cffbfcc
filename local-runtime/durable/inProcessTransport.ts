/**
 * The app's durable client (durable-functions) calls the Durable extension over HTTP on the same machine
 * (the binding's rpcBaseUrl, the extension's loopback endpoint). Under the local runtime the engine playing
 * the extension lives in the same process, so that loopback round trip (a socket write, HTTP parsing on
 * both sides, axios's http adapter and follow-redirects) was the largest single cost of a matched player.
 *
 * This is an axios adapter, installed on the axios module durable-functions itself loads: requests whose
 * URL lies under a registered engine's webhook base are handed to that engine's `handleHttp` — the same
 * routes, status codes, headers, bodies and authorization check as over HTTP — and every other request goes
 * to axios's own adapter. The durable-functions client code runs unchanged (URL building, status handling,
 * axios's request and response transforms); only the transport differs. LOCAL_DURABLE_TRANSPORT=http keeps
 * the loopback HTTP (the engine's HTTP route serves outside callers either way).
 */
import { createRequire } from "node:module";

interface EngineHttp {
  handleHttp(req: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: Buffer;
  }): Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
}

/** The part of an axios request config this adapter reads (axios 1.x). */
interface AxiosConfigLike {
  url?: string;
  baseURL?: string;
  params?: unknown;
  method?: string;
  data?: unknown;
  headers?: { toJSON?: () => Record<string, unknown> } & Record<string, unknown>;
  validateStatus?: ((status: number) => boolean) | null;
  adapter?: unknown;
}

interface AxiosResponseLike {
  data: unknown;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  config: AxiosConfigLike;
  request: unknown;
}

interface AxiosModuleLike {
  defaults: { adapter?: unknown };
  getUri(config: AxiosConfigLike): string;
  getAdapter(adapters: unknown): (config: AxiosConfigLike) => Promise<AxiosResponseLike>;
  AxiosError: new (message: string, code: string, config: AxiosConfigLike, request: unknown, response: AxiosResponseLike) => Error;
}

/** Webhook base URL (origin + path, no trailing slash) → engine. Several runtimes may share a process (tests). */
const engines = new Map<string, EngineHttp>();
let installed: { axios: AxiosModuleLike; fallback: unknown } | undefined;

/** The axios module durable-functions resolves (not whichever copy this package would resolve). */
function durableAxios(): AxiosModuleLike {
  const fromDurable = createRequire(require.resolve("durable-functions"));
  return fromDurable("axios") as AxiosModuleLike;
}

function engineFor(url: string): EngineHttp | undefined {
  for (const [base, engine] of engines) {
    if (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`)) return engine;
  }
  return undefined;
}

function plainHeaders(config: AxiosConfigLike): Record<string, string> {
  const raw = config.headers?.toJSON ? config.headers.toJSON() : (config.headers ?? {});
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && v !== null && typeof v !== "object") out[k.toLowerCase()] = String(v);
  return out;
}

function bodyOf(data: unknown): Buffer | undefined {
  if (data === undefined || data === null || data === "") return undefined;
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(typeof data === "string" ? data : JSON.stringify(data), "utf8");
}

/**
 * The request's full URL. An adapter gets the config already merged with the instance's defaults, and
 * durable-functions passes absolute URLs with their query built in (no baseURL, no params): then the URL is the
 * config's as it is. Otherwise axios.getUri builds it, which merges the config with the defaults once more
 * (the dearest part of axios per call).
 */
function urlOf(axios: AxiosModuleLike, config: AxiosConfigLike): string {
  if (!config.baseURL && config.params === undefined && typeof config.url === "string" && /^https?:\/\//i.test(config.url)) return config.url;
  return axios.getUri(config);
}

async function adapter(config: AxiosConfigLike): Promise<AxiosResponseLike> {
  const { axios, fallback } = installed!;
  const url = urlOf(axios, config);
  const engine = engineFor(url);
  if (!engine) return axios.getAdapter(fallback)(config);
  const out = await engine.handleHttp({ method: (config.method ?? "get").toUpperCase(), url, headers: plainHeaders(config), body: bodyOf(config.data) });
  const status = out?.status ?? 404;
  const response: AxiosResponseLike = {
    // The raw text, as axios's http adapter gives it to the response transform (which parses the JSON).
    data: out?.body.toString("utf8") ?? "",
    status,
    statusText: "",
    headers: out?.headers ?? {},
    config,
    request: { inProcess: true },
  };
  // axios's settle(): a status the config does not accept rejects with an AxiosError.
  if (config.validateStatus && !config.validateStatus(status)) {
    throw new axios.AxiosError(
      `Request failed with status code ${status}`,
      status >= 500 ? "ERR_BAD_RESPONSE" : "ERR_BAD_REQUEST",
      config,
      response.request,
      response,
    );
  }
  return response;
}

/** Serves durable-functions' calls under `webhookBase` from `engine` in process; returns the undo. */
export function serveInProcess(webhookBase: string, engine: EngineHttp): () => void {
  if (!installed) {
    const axios = durableAxios();
    installed = { axios, fallback: axios.defaults.adapter };
    axios.defaults.adapter = adapter;
  }
  const base = webhookBase.replace(/\/+$/, "");
  engines.set(base, engine);
  return () => {
    if (engines.get(base) === engine) engines.delete(base);
  };
}

/** Whether the in-process transport is on (LOCAL_DURABLE_TRANSPORT unset or "inProcess"; "http" turns it off). */
export function inProcessTransportWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.LOCAL_DURABLE_TRANSPORT ?? "inProcess").trim().toLowerCase();
  if (v === "http") return false;
  if (v === "inprocess" || v === "") return true;
  throw new Error(`LOCAL_DURABLE_TRANSPORT must be "inProcess" or "http", not "${env.LOCAL_DURABLE_TRANSPORT}"`);
}
