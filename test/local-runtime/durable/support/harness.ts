/**
 * Test harness for the local Durable engine: our functions-core shim (installed before durable-functions
 * loads), a real HTTP server in front of DurableEngine.handleHttp, and a REAL durable-functions
 * DurableClient obtained the way the library builds it: from the durableClient input binding data of an
 * invocation (getClient), here via a tiny generic client function.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { installFunctionsCore } from "../../../../local-runtime/functionsCore";

export const core = installFunctionsCore();

import type { DurableEngine } from "../../../../local-runtime/durable";

export interface WebhookServer {
  baseUrl: string;
  /** The engine currently answering (swapped by the restart test). */
  engine: DurableEngine | undefined;
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const state: { engine: DurableEngine | undefined } = { engine: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]));
      const engine = state.engine;
      const reply = engine
        ? engine.handleHttp({ method: req.method ?? "GET", url: req.url ?? "/", headers, body: Buffer.concat(chunks) })
        : Promise.resolve(undefined);
      reply.then(
        (r) => {
          if (!r) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(r.status, r.headers).end(r.body);
        },
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get engine() {
      return state.engine;
    },
    set engine(e) {
      state.engine = e;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until check() returns a truthy value; fails with `what` after the bound. Not a timing assertion. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise the test resolves by hand (an activity that blocks until released). */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
