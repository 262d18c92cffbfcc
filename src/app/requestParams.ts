/** Route and query parameters, validated the same way as bodies. */
import type { HttpRequest } from "@azure/functions";
import type { Settings } from "../config/settings";
import { validateId, validateRegion } from "../domain/validation";
import { fromValidated, httpError } from "./http";

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
