/**
 * The local runtime's player identity: with `PLAYER_AUTH=jwt` and no `PLAYER_AUTH_ISSUER` of its own, the
 * development issuer (devIssuer.ts) is mounted on the host's server under `/runtime/local/identity`, and the
 * app is pointed at it by setting `PLAYER_AUTH_ISSUER` (and `PLAYER_AUTH_AUDIENCE` if unset) BEFORE the app
 * loads, as the host provides app settings. The issuer's `iss` is the runtime's origin, which is why the
 * runtime binds its port before it loads the app. The app then validates these tokens with its production
 * code (OpenID discovery over HTTP, the JWKS, jose) unchanged.
 *
 * Its signing keys are kept in `stateFile` (under the app folder's `.local/`), so tokens handed out stay
 * valid across a restart of `npm start` on the same port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DEFAULT_DEV_AUDIENCE, DevelopmentIssuer, IDENTITY_PATH } from "./devIssuer";
import type { MountedHandler } from "../host/services";

const MAX_BODY_BYTES = 16 * 1024;

export interface LocalIdentity {
  /** The development issuer, when this runtime plays it. */
  issuer: DevelopmentIssuer | undefined;
  /** One line for the banner: the player auth mode and what it means. */
  describe: string;
  mounts: MountedHandler[];
  stop(): void;
}

export async function startLocalIdentity(o: { origin: string; stateFile?: string; env?: NodeJS.ProcessEnv }): Promise<LocalIdentity> {
  const env = o.env ?? process.env;
  const mode = (env.PLAYER_AUTH ?? "").trim() || "none";
  const nothing = { issuer: undefined, mounts: [], stop: () => undefined };
  if (mode === "none") return { ...nothing, describe: "player auth: PLAYER_AUTH=none (default): anyone can create a ticket for any playerId" };
  if (mode !== "jwt") return { ...nothing, describe: `player auth: PLAYER_AUTH=${mode} (not a mode: the app refuses to start)` };
  if (env.PLAYER_AUTH_ISSUER?.trim()) {
    return {
      ...nothing,
      describe: `player auth: PLAYER_AUTH=jwt, tokens of ${env.PLAYER_AUTH_ISSUER.trim()} (audience ${env.PLAYER_AUTH_AUDIENCE ?? "unset"})`,
    };
  }
  const url = `${o.origin}${IDENTITY_PATH}`;
  const setAudience = !env.PLAYER_AUTH_AUDIENCE?.trim();
  const issuer = new DevelopmentIssuer({
    issuer: url,
    audience: setAudience ? DEFAULT_DEV_AUDIENCE : env.PLAYER_AUTH_AUDIENCE!.trim(),
    stateFile: o.stateFile,
  });
  await issuer.start();
  env.PLAYER_AUTH_ISSUER = url;
  if (setAudience) env.PLAYER_AUTH_AUDIENCE = issuer.audience;
  return {
    issuer,
    describe:
      `player auth: PLAYER_AUTH=jwt, tokens of the local development issuer ${url} (audience ${issuer.audience}); ` +
      `get one with POST ${url}/token {"playerId": "..."} (DEVELOPMENT ONLY: it signs for any player)`,
    mounts: [{ pathPrefix: IDENTITY_PATH, request: (req, res) => serve(issuer, req, res) }],
    stop: () => {
      // Another runtime in this process (tests) must not inherit an issuer that is gone.
      if (env.PLAYER_AUTH_ISSUER === url) delete env.PLAYER_AUTH_ISSUER;
      if (setAudience && env.PLAYER_AUTH_AUDIENCE === issuer.audience) delete env.PLAYER_AUTH_AUDIENCE;
    },
  };
}

async function serve(issuer: DevelopmentIssuer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" }) =>
    void res.writeHead(status, headers).end(JSON.stringify(body));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.shouldKeepAlive = false;
      return reply(413, { error: "body_too_large", detail: `the development issuer takes bodies of at most ${MAX_BODY_BYTES} bytes` });
    }
    chunks.push(chunk);
  }
  const url = new URL(req.url ?? "/", "http://local");
  const out = await issuer.handle({ method: req.method ?? "GET", url, headers: {}, body: Buffer.concat(chunks) });
  if (!out) return reply(404, { error: "not_found", detail: `the development issuer has no ${url.pathname}` });
  reply(out.status, out.body, out.headers);
}
