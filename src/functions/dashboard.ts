/**
 * `GET /api/dashboard` (function key): the operator's dashboard, one HTML page whose small script polls
 * `GET /api/stats` (relative to the page, so any route prefix works) and redraws without reloading.
 *
 * The page and its script (src/functions/dashboard/) are read once and served as one document (the
 * script inlined), so the function key in the page's URL is the only credential needed: no second
 * request for an asset behind the key. The Content-Security-Policy allows exactly that script and
 * same-origin fetches.
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { onlyQuery } from "./http/request";
import { httpRoute } from "./http/route";

/** The dashboard's directory: beside this file in src/ and in dist/ (scripts/copyAssets.js copies it). */
export const DASHBOARD_DIR = join(__dirname, "dashboard");

let page: { html: string; csp: string } | undefined;

/** The page with its script inlined, and the CSP that allows only that script (by hash). */
export function dashboardPage(): { html: string; csp: string } {
  if (page) return page;
  const html = readFileSync(join(DASHBOARD_DIR, "dashboard.html"), "utf8");
  const script = readFileSync(join(DASHBOARD_DIR, "dashboard.js"), "utf8");
  const tag = '<script src="dashboard.js"></script>';
  if (!html.includes(tag)) throw new Error(`dashboard.html must load its script with ${tag}`);
  const hash = createHash("sha256").update(script).digest("base64");
  page = {
    html: html.replace(tag, () => `<script>${script}</script>`),
    csp: `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`,
  };
  return page;
}

export async function dashboard(req: HttpRequest): Promise<HttpResponseInit> {
  // `code` is the function key when it is passed in the URL (a browser cannot set x-functions-key).
  onlyQuery(req, ["code"]);
  const { html, csp } = dashboardPage();
  return {
    status: 200,
    body: html,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": csp,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  };
}

httpRoute("dashboard", { route: "dashboard", authLevel: "function" }, { GET: dashboard });
