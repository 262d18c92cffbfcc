/**
 * The local runtime's development issuer (local-runtime/identity) on a real HTTP server with a free port,
 * for tests of PLAYER_AUTH=jwt: the app's validation code fetches its discovery document and JWKS over
 * HTTP exactly as it would from Entra ID. Register it BEFORE useTestApp(): its beforeAll puts the
 * PLAYER_AUTH settings into the environment the app then reads.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { DevelopmentIssuer, IDENTITY_PATH } from "../../../local-runtime/identity/devIssuer";

export const AUDIENCE = "matchmaker-test";

export interface TestIssuer {
  issuer: DevelopmentIssuer;
  /** The `iss` and discovery base URL. */
  url: string;
  /** GET requests served, by path (e.g. how often the JWKS was fetched). */
  fetches: Map<string, number>;
  /** A token for the player via `POST .../token` (the issuer's real HTTP endpoint). */
  token(playerId: string, extra?: Record<string, unknown>): Promise<string>;
}

export function useDevIssuer(settings: Record<string, string> = {}): TestIssuer {
  const state = {} as TestIssuer & { server: Server };
  beforeAll(async () => {
    const fetches = new Map<string, number>();
    const ref: { issuer?: DevelopmentIssuer } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
        if (req.method === "GET") fetches.set(url.pathname, (fetches.get(url.pathname) ?? 0) + 1);
        ref
          .issuer!.handle({ method: req.method ?? "GET", url, headers: {}, body: Buffer.concat(chunks) })
          .then((r) => {
            if (!r) return res.writeHead(404).end();
            res.writeHead(r.status, r.headers).end(r.body === undefined ? undefined : JSON.stringify(r.body));
          })
          .catch((err: unknown) => res.writeHead(500).end(String(err)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${IDENTITY_PATH}`;
    const issuer = (ref.issuer = new DevelopmentIssuer({ issuer: url, audience: AUDIENCE }));
    await issuer.start();
    Object.assign(process.env, {
      // http issuers are accepted under local development only, as on a developer's machine.
      AZURE_FUNCTIONS_ENVIRONMENT: "Development",
      PLAYER_AUTH: "jwt",
      PLAYER_AUTH_ISSUER: url,
      PLAYER_AUTH_AUDIENCE: AUDIENCE,
      PLAYER_AUTH_CLOCK_TOLERANCE_SECONDS: "5",
      PLAYER_AUTH_JWKS_COOLDOWN_SECONDS: "1",
      ...settings,
    });
    Object.assign(state, {
      server,
      issuer,
      url,
      fetches,
      async token(playerId: string, extra: Record<string, unknown> = {}) {
        const res = await fetch(`${url}/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ playerId, ...extra }),
        });
        if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { token: string }).token;
      },
    });
  });
  afterAll(async () => {
    for (const k of ["PLAYER_AUTH", "PLAYER_AUTH_ISSUER", "PLAYER_AUTH_AUDIENCE", "PLAYER_AUTH_CLOCK_TOLERANCE_SECONDS", "PLAYER_AUTH_JWKS_COOLDOWN_SECONDS"])
      delete process.env[k];
    await new Promise<void>((resolve) => state.server?.close(() => resolve()));
  });
  return new Proxy({} as TestIssuer, { get: (_t, k) => Reflect.get(state, k) });
}
