/**
 * The operator's dashboard in a real browser: Debian's chromium, driven by playwright-core (never a browser
 * download), against the app in the local runtime (`npm start`'s runtime) while a simulated crowd of
 * players and game servers uses the public HTTP API. The page must load and keep refreshing without a
 * console error, a script error or a failed request; its figures must show the crowd as it waits for
 * servers (the scale-out banner) and as it is matched (time to match, matches per minute, the pool). A
 * screenshot is kept in test-artifacts/ (the README's picture, docs/dashboard.png, is a copy of it).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runSimulation } from "../../tools/simulate";
import { api, matchSettings, until, useApp } from "./harness";

const MODES = { duel: 2, squad: 4 };
const REGIONS = ["westeurope", "eastus"];
const PLAYERS = 120;
/** A duration as the page writes it. */
const TIME = /\d+(\.\d)? (ms|s)/.source;
const ARTIFACTS = join(__dirname, "..", "..", "test-artifacts");
const SCREENSHOT = join(ARTIFACTS, "dashboard.png");

/** The browser: CHROMIUM_PATH, else Debian's /usr/bin/chromium; never a download. */
function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  const path = env.CHROMIUM_PATH?.trim() || "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `The dashboard's browser test needs Chromium at ${path} (not found). Install the OS package: ` +
        "`apt-get install -y chromium` (Debian/Ubuntu; .ci/run does it), or point CHROMIUM_PATH at a Chromium/Chrome binary. " +
        "Playwright's own browser download is never used.",
    );
  }
  return path;
}

// squad in its rule-set form (two teams of two): the store reports its per-mode figures (byMode).
const app = useApp({ ...matchSettings(MODES, REGIONS, 60), MATCH_MODES: JSON.stringify({ duel: 2, squad: { teams: 2, teamSize: 2 } }) });
let browser: Browser | undefined;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // As root (CI containers) Chromium refuses to start with its sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
});

afterAll(async () => {
  await browser?.close();
});

/** Everything that went wrong in the page: console errors, uncaught errors, failed or refused requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? "").trim();
}

/** A figure of the "Now" row as a number (NaN while it shows a placeholder). */
async function figure(page: Page, id: string): Promise<number> {
  return Number((await text(page, `#${id}`)).replace(/[^\d.]/g, "") || NaN);
}

/** A table's rows as cell texts, header row first. */
async function rows(page: Page, id: string): Promise<string[][]> {
  const trs = page.locator(`#${id} tr`);
  const out: string[][] = [];
  for (let i = 0; i < (await trs.count()); i++) out.push((await trs.nth(i).locator("th, td").allTextContents()).map((c) => c.trim()));
  return out;
}

/** The sum of one column (by header) over a table's body rows. */
async function columnSum(page: Page, id: string, header: string): Promise<number> {
  const [head, ...body] = await rows(page, id);
  const col = head!.indexOf(header);
  expect(col, `column "${header}" of #${id}`).toBeGreaterThanOrEqual(0);
  return body.reduce((sum, r) => sum + Number(r[col]), 0);
}

const inPage = (page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 20_000) => until(check, `the dashboard to show ${what}`, timeoutMs, 200);

it("loads without errors and shows the crowd waiting for servers, then matched, refreshing in place", async () => {
  const rt = app();
  const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
  const problems = watch(page);
  const navigations: string[] = [];
  page.on("framenavigated", (f) => navigations.push(f.url()));

  const res = await page.goto(`${rt.baseUrl}/api/dashboard?code=${rt.keys.functionKeys[0]}`);
  expect(res?.status()).toBe(200);
  await inPage(page, async () => (await text(page, "#status")).startsWith("live"), "live status");
  // Before: an empty matchmaker, one row per region, no samples.
  await inPage(page, async () => (await text(page, "#fig-mpm")) === "0", "0 players matched per minute (two polls)");
  expect(await figure(page, "fig-waiting")).toBe(0);
  expect(await text(page, "#fig-p50")).toBe("–");
  expect(await figure(page, "fig-free")).toBe(0);
  expect((await rows(page, "queue")).map((r) => r[0])).toEqual(["region", ...REGIONS]);
  expect(await columnSum(page, "ttm", "samples")).toBe(0);
  const before = { chart: await page.locator("#chart-mpm rect").count(), updated: await text(page, "#updated") };

  // The crowd: players arrive over 2 s; the servers come 4 s later, so the sessions first wait for them.
  const crowd = runSimulation({
    baseUrl: rt.baseUrl,
    players: PLAYERS,
    servers: 40,
    mode: "mixed",
    modes: MODES,
    regions: REGIONS,
    functionKey: rt.keys.functionKeys[0],
    arrivalRate: 60,
    serverDelayMs: 4000,
    gameMs: 3000,
    pollIntervalMs: 500,
    deadlineMs: 25_000,
    deregister: false,
    idPrefix: "dash-",
  });
  // While no server is there: full sessions wait, the scale-out banner says where.
  await inPage(page, async () => (await figure(page, "fig-wfs")) > 0, "sessions waiting for a server");
  expect(await page.locator("#scale").getAttribute("class")).toContain("warn");
  expect(await text(page, "#scale")).toMatch(/^SCALE OUT: (westeurope|eastus) has \d+ session\(s\) waiting for a server/);
  expect(await figure(page, "fig-waiting")).toBeGreaterThan(0);
  // The servers come: sessions are played on them (3 s games), one server per session.
  await inPage(page, async () => (await columnSum(page, "pool", "busy")) > 0, "busy servers");

  const result = await crowd;
  expect(result.problems).toEqual([]);
  expect(result.matched).toBe(PLAYERS);

  // After: every player matched, and the page says so without being reloaded.
  await inPage(page, async () => (await columnSum(page, "ttm", "samples")) === PLAYERS, `${PLAYERS} time-to-match samples`);
  await inPage(page, async () => (await figure(page, "fig-wfs")) === 0 && (await figure(page, "fig-waiting")) === 0, "nobody waiting");
  expect(await page.locator("#scale").getAttribute("class")).toContain("ok");
  expect(await text(page, "#fig-p50")).toMatch(/^\d+(\.\d)? (ms|s)$/);
  expect(await text(page, "#fig-p95")).toMatch(/^\d+(\.\d)? (ms|s)$/);
  expect(await figure(page, "fig-mpm")).toBeGreaterThan(0);
  // Every game was played and its server released: the whole pool is free again.
  await inPage(page, async () => (await figure(page, "fig-free")) === 40, "40 free servers");
  expect(await columnSum(page, "pool", "busy")).toBe(0);
  // The histogram holds every sample, the rate chart has bars with height.
  const bars = page.locator("#chart-ttm rect");
  expect(await bars.count()).toBeGreaterThan(1);
  const titles = await page.locator("#chart-ttm rect title").allTextContents();
  expect(titles.reduce((sum, t) => sum + Number(t.split(": ").pop()), 0)).toBe(PLAYERS);
  expect(await page.locator("#chart-mpm rect").count()).toBeGreaterThanOrEqual(before.chart);
  expect(await text(page, "#updated")).not.toBe(before.updated);

  // Per mode and region: every matched player counted once, nobody waiting. Where the store reports a
  // mode's figures (byMode: modes with rules, once the app hands the store its rule sets) the estimated
  // wait (estimatedWaitSeconds) and the wait percentiles show; otherwise dashes.
  const stats = (await api(rt).call("GET", "/api/stats")).json as {
    regions: { region: string; byMode?: Record<string, { recentMatches: number; estimatedWaitSeconds: number | null }> }[];
  };
  const [modeHead, ...modeRows] = await rows(page, "quality");
  expect(modeRows.map((r) => `${r[0]}/${r[1]}`).sort()).toEqual(
    Object.keys(MODES)
      .flatMap((m) => REGIONS.map((r) => `${m}/${r}`))
      .sort(),
  );
  expect(await columnSum(page, "quality", "matched")).toBe(PLAYERS);
  expect(await columnSum(page, "quality", "waiting")).toBe(0);
  const cell = (r: string[], h: string) => r[modeHead!.indexOf(h)];
  for (const r of modeRows) {
    const recent = (stats.regions.find((x) => x.region === r[1])?.byMode?.[r[0]!]?.recentMatches ?? 0) > 0;
    const estimate = stats.regions.find((x) => x.region === r[1])?.byMode?.[r[0]!]?.estimatedWaitSeconds;
    expect(cell(r, "est. wait")).toMatch(typeof estimate === "number" ? new RegExp(`^${TIME}$`) : /^–$/);
    expect(cell(r, "wait p50 / p95")).toMatch(recent ? new RegExp(`^${TIME} / ${TIME}$`) : /^–$/);
    // No skill rule: no spread or team gap to show.
    expect([cell(r, "skill spread p50 / p95"), cell(r, "team gap p50 / p95")]).toEqual(["–", "–"]);
  }

  // Three squad players find no fourth: the queue table shows them where they wait.
  for (const id of ["dash-w1", "dash-w2", "dash-w3"])
    expect((await api(rt).call("POST", "/api/tickets", { playerId: id, mode: "squad", region: "eastus" })).status).toBe(202);
  await inPage(page, async () => (await figure(page, "fig-waiting")) === 3, "3 players waiting");
  const queue = await rows(page, "queue");
  const squad = queue[0]!.indexOf("squad");
  expect(queue.find((r) => r[0] === "eastus")![squad]).toBe("3");
  expect(queue.find((r) => r[0] === "westeurope")![squad]).toBe("0");
  const byMode = await rows(page, "quality");
  expect(byMode.find((r) => r[0] === "squad" && r[1] === "eastus")![byMode[0]!.indexOf("waiting")]).toBe("3");

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(existsSync(SCREENSHOT)).toBe(true);
  // Refreshed in place: the page was loaded once and never navigated again.
  expect(navigations).toHaveLength(1);
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);

it("shows each mode's estimated wait and match quality as the stats contract reports them (byMode)", async () => {
  // The app's store reports byMode only for modes it is given as rule sets; until the wiring hands it the
  // rule sets (issue 11), this takes the app's real stats answer and adds the figures ModeStats defines.
  const rt = app();
  const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
  const problems = watch(page);
  const skillRules = { size: 4, teams: 2, teamSize: 2, maxPartySize: 4, skill: { window: 200, widen: [] } };
  await page.route("**/api/stats", async (route) => {
    const real = await route.fetch();
    const stats = await real.json();
    stats.modeRules.squad = skillRules;
    for (const r of stats.regions)
      r.byMode = {
        squad: {
          waiting: 5,
          recentMatches: 12,
          skillSpread: { p50: 140.4, p95: 190 },
          teamSkillGap: { p50: 20, p95: 61.6 },
          waitSeconds: { p50: 3.25, p95: 12 },
          estimatedWaitSeconds: 4.5,
          waitingBySkillBand: { "1000": 5 },
        },
      };
    await route.fulfill({ response: real, json: stats });
  });
  await page.goto(`${rt.baseUrl}/api/dashboard?code=${rt.keys.functionKeys[0]}`);
  await inPage(page, async () => (await rows(page, "quality")).some((r) => r[0] === "squad" && r[4] !== "–"), "the squad figures");
  const [head, ...body] = await rows(page, "quality");
  const squad = body.find((r) => r[0] === "squad" && r[1] === "westeurope")!;
  const at = (h: string) => squad[head!.indexOf(h)];
  expect([at("waiting"), at("est. wait"), at("wait p50 / p95"), at("skill spread p50 / p95"), at("team gap p50 / p95")]).toEqual([
    "5",
    "4.5 s",
    "3.3 s / 12 s",
    "140 / 190",
    "20 / 62",
  ]);
  // duel has no per-mode figures in this answer: dashes, not zeros.
  const duel = body.find((r) => r[0] === "duel" && r[1] === "westeurope")!;
  expect(duel.slice(4)).toEqual(["–", "–", "–", "–"]);
  expect(problems).toEqual([]);
  await page.close();
});
