/**
 * Reading a request: JSON bodies with size and content-type limits checked against the published schema,
 * route and query parameters validated the same way as bodies, and the origin for links in answers.
 */
import type { HttpRequest } from "@azure/functions";
import type { Settings } from "../../config/settings";
import { validateId, validateRegion } from "../../domain/validation";
import { checkSchema, type ValidatorName } from "../../usecases/schemas";
import { fromValidated, HttpError, httpError } from "./respond";

export const MAX_BODY_BYTES = 4096;

/**
 * Reads a JSON body: 415 unless Content-Type is JSON, 413 over MAX_BODY_BYTES, 400 if malformed, then
 * the published schema. `optional`: an empty body yields `undefined`.
 */
export async function readJson<T>(req: HttpRequest, schema: ValidatorName, opts: { optional?: boolean } = {}): Promise<T | undefined> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw httpError(413, "body_too_large", `the body may have at most ${MAX_BODY_BYTES} bytes`);
  const raw = Buffer.from(await req.arrayBuffer());
  if (raw.length > MAX_BODY_BYTES) throw httpError(413, "body_too_large", `the body may have at most ${MAX_BODY_BYTES} bytes`);
  if (raw.length === 0) {
    if (opts.optional) return undefined;
    throw httpError(400, "missing_body", "a JSON body is required");
  }
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) {
    throw httpError(415, "unsupported_media_type", `send the body as application/json (got ${JSON.stringify(type || "no Content-Type")})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw httpError(400, "malformed_json", `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = checkSchema(schema, body, "the body");
  if (problem) throw new HttpError(400, { ...problem });
  return body as T;
}

export function routeId(req: HttpRequest, name: string): string {
  return fromValidated(validateId(name, req.params[name]));
}

/** `?region=`, else the default region. */
export function queryRegion(req: HttpRequest, s: Settings): string {
  const r = req.query.get("region");
  if (r === null || r === "") return s.defaultRegion;
  return fromValidated(validateRegion(r, s.regions));
}

/** `?region=` as a one-region list, else every configured region. */
/** `?region=` when given (validated), else undefined: the call acts where the entity is (game servers live in one region). */
export function optionalQueryRegion(req: HttpRequest, s: Settings): string | undefined {
  const r = req.query.get("region");
  if (r === null || r === "") return undefined;
  return fromValidated(validateRegion(r, s.regions));
}

export function queryRegions(req: HttpRequest, s: Settings): string[] {
  return req.query.get("region") ? [queryRegion(req, s)] : s.regions;
}

/** Refuses query parameters a route does not know, so a typo (e.g. ?regoin=) is not silently ignored. */
export function onlyQuery(req: HttpRequest, allowed: string[]): void {
  for (const key of req.query.keys()) {
    if (!allowed.includes(key) && key !== "code")
      throw httpError(400, "unknown_parameter", `unexpected query parameter ${JSON.stringify(key)}; allowed: ${allowed.join(", ") || "none"}`);
  }
}

/** host[:port]: DNS labels (letters, digits, inner hyphens), IPv4, or [IPv6]; port 1–65535. */
const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{1,5}))?$/;

/**
 * The origin a client used, for links in answers (ticketUri, statusQueryGetUri, Location). The request's
 * host is used only when it is a well-formed host[:port] (else 400 invalid_host): on Azure the front end
 * routes a request to the app only when its Host is one of the app's host names, so the host seen here is
 * one of them; locally a forged Host can only change the links of the forger's own answer (answers are
 * `Cache-Control: no-store`, so no shared cache keeps them).
 */
export function origin(req: HttpRequest): string {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw httpError(400, "invalid_host", "the request URL has no valid host");
  }
  const header = req.headers.get("host");
  const candidates = header === null ? [url.host] : [url.host, header];
  for (const host of candidates) {
    const m = HOST_PATTERN.exec(host);
    const port = m?.[1] === undefined ? 1 : Number(m[1]);
    if (!m || host.length > 261 || port < 1 || port > 65535)
      throw httpError(400, "invalid_host", `the Host must be host[:port], got ${JSON.stringify(host.slice(0, 80))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw httpError(400, "invalid_host", "the request URL must be http or https");
  return `${url.protocol}//${url.host}`;
}
