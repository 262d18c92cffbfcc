/**
 * The app's Web PubSub sender (@azure/web-pubsub) calls the service's REST API over HTTP. Under the local
 * runtime the service it calls is the local one, in the same process, so each push paid a loopback round trip
 * (a socket write, HTTP framing and parsing on both sides, a keep-alive socket per concurrent send) on top of
 * the SDK's own work: at the ceiling the whole push was about a quarter of the runtime's CPU per player.
 *
 * This is an HttpClient (the SDK's `httpClient` client option, @azure/core-rest-pipeline's transport
 * interface): requests to the local service's endpoint are answered by its REST handler (restApi.ts) with no
 * socket, the same routes, status codes, bodies and access-key check as over HTTP. Everything above the
 * transport runs unchanged: the SDK's operation specs, serialization, retry and the access-key credential
 * policy that signs every request's JWT. LOCAL_WEBPUBSUB_TRANSPORT=http keeps the loopback HTTP.
 */
import type { WebPubSubServiceClientOptions } from "@azure/web-pubsub";
import type { LocalWebPubSub } from "./service";
import { readBody, tooLarge, MAX_MESSAGE_BYTES } from "./restApi";

export type HttpClient = NonNullable<WebPubSubServiceClientOptions["httpClient"]>;
type PipelineRequest = Parameters<HttpClient["sendRequest"]>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient["sendRequest"]>>;
type HttpHeaders = PipelineResponse["headers"];

/** Response headers as @azure/core-rest-pipeline's HttpHeaders (names are case-insensitive). */
class Headers implements HttpHeaders {
  private readonly byName = new Map<string, { name: string; value: string }>();
  constructor(init: Record<string, string> = {}) {
    for (const [name, value] of Object.entries(init)) this.set(name, value);
  }
  get(name: string): string | undefined {
    return this.byName.get(name.toLowerCase())?.value;
  }
  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean): void {
    this.byName.set(name.toLowerCase(), { name, value: String(value) });
  }
  delete(name: string): void {
    this.byName.delete(name.toLowerCase());
  }
  toJSON(options: { preserveCase?: boolean } = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [lower, { name, value }] of this.byName) out[options.preserveCase ? name : lower] = value;
    return out;
  }
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const [lower, { value }] of this.byName) yield [lower, value];
  }
}

function abortError(): Error {
  const err = new Error("The operation was aborted.");
  err.name = "AbortError";
  return err;
}

/** The request body as bytes: what the SDK sends (JSON or text as a string, binary as bytes or a stream). */
async function bodyBytes(body: PipelineRequest["body"]): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  const stream = typeof body === "function" ? (body as () => unknown)() : body;
  if (stream && typeof (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator] === "function") return readBody(stream as AsyncIterable<Buffer>);
  throw new TypeError("the local Web PubSub service's in-process transport takes string, byte or stream bodies only");
}

/** Whether `url` is on the service's endpoint (127.0.0.1 and localhost are the same service, as over HTTP). */
function onService(url: URL, service: LocalWebPubSub): boolean {
  const endpoint = new URL(service.endpoint);
  const local = (h: string) => (h === "localhost" || h === "[::1]" || h === "127.0.0.1" ? "loopback" : h);
  return url.protocol === endpoint.protocol && url.port === endpoint.port && local(url.hostname) === local(endpoint.hostname);
}

/** An HttpClient that answers requests to `service` in process; any other URL is refused (it never reaches a network). */
export function inProcessClient(service: LocalWebPubSub): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      if (request.abortSignal?.aborted) throw abortError();
      const url = new URL(request.url);
      if (!onService(url, service)) throw new Error(`the in-process Web PubSub transport serves ${service.endpoint} only, not ${url.origin}`);
      const bytes = await bodyBytes(request.body);
      const answer = await service.rest({
        method: request.method,
        target: `${url.pathname}${url.search}`,
        authorization: request.headers.get("authorization"),
        contentType: request.headers.get("content-type"),
        body: async () => {
          if (bytes.length > MAX_MESSAGE_BYTES) throw tooLarge();
          return bytes;
        },
      });
      if (request.abortSignal?.aborted) throw abortError();
      const headers = new Headers(answer.json === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" });
      return { request, status: answer.status, headers, ...(answer.json === undefined ? {} : { bodyAsText: answer.json }) };
    },
  };
}

/** Whether the in-process transport is on (LOCAL_WEBPUBSUB_TRANSPORT unset or "inProcess"; "http" turns it off). */
export function inProcessPushWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.LOCAL_WEBPUBSUB_TRANSPORT ?? "inProcess").trim().toLowerCase();
  if (v === "http") return false;
  if (v === "inprocess" || v === "") return true;
  throw new Error(`LOCAL_WEBPUBSUB_TRANSPORT must be "inProcess" or "http", not "${env.LOCAL_WEBPUBSUB_TRANSPORT}"`);
}
