/**
 * `runSimulation`: a crowd against the matchmaker through its public HTTP API only (see tools/simulate.ts for
 * the CLI). The game servers are `fleet` (servers.ts), each player is a `PlayerClient` (player.ts), and the
 * end checks are consistency.ts. The end-to-end tests drive this too.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { percentile } from "../../src/lib/percentile";
import { histogram } from "../svgChart";
import { sessionProblems, sessionsSeen } from "./consistency";
import { simulatorHttp } from "./http";
import { awaitMatch, pollingClient, requestTicket, type PlayerClient, type PlayerContext } from "./player";
import { fleet } from "./servers";
import type { PlayerResult, SimulationOptions, SimulationResult } from "./types";
import type { ModeRules } from "../../src/domain/modeRules";
import { planUnits } from "./population";
import { rulesProblems, rulesReport } from "./rules";

/** Buckets in whole sessions, so that with enough servers every player can be matched. */
export function planPlayers(
  o: Pick<SimulationOptions, "players" | "mode" | "modes" | "regions" | "idPrefix">,
): { playerId: string; mode: string; region: string }[] {
  const modes = o.mode === "mixed" ? Object.keys(o.modes) : [o.mode];
  for (const m of modes) if (!Object.hasOwn(o.modes, m)) throw new Error(`Unknown mode "${m}" (known: ${Object.keys(o.modes).join(", ")})`);
  const out: { playerId: string; mode: string; region: string }[] = [];
  let g = 0;
  while (out.length < o.players) {
    const remaining = o.players - out.length;
    const fitting = modes.filter((m) => o.modes[m]! <= remaining);
    const mode = fitting.length ? fitting[g % fitting.length]! : modes[0]!;
    const region = o.regions[Math.floor(g / Math.max(1, modes.length)) % o.regions.length]!;
    const size = Math.min(o.modes[mode]!, remaining);
    for (let i = 0; i < size; i++) out.push({ playerId: `${o.idPrefix ?? "p"}${out.length}`, mode, region });
    g++;
  }
  return out;
}

function progressLine(started: number, results: PlayerResult[], requested: number, releases: number): string {
  const count = (s: PlayerResult["status"]) => results.filter((r) => r.status === s).length;
  return (
    `[simulate] ${((Date.now() - started) / 1000).toFixed(1)}s  requested ${requested}/${results.length}  matched ${count("matched")}` +
    `  timed out ${count("timedOut")}  waiting ${count("unfinished")}  released ${releases}`
  );
}

/** Resolves when `all` settle or the deadline passes, whichever is first. */
async function settledOrDeadline(all: Promise<unknown>[], deadline: number): Promise<void> {
  const ac = new AbortController();
  await Promise.race([Promise.allSettled(all), sleep(Math.max(0, deadline - Date.now()), undefined, { signal: ac.signal }).catch(() => undefined)]);
  ac.abort();
}

export async function runSimulation(o: SimulationOptions, client: PlayerClient = pollingClient): Promise<SimulationResult> {
  const started = Date.now();
  const deadline = started + (o.deadlineMs ?? 120_000);
  const pollMs = o.pollIntervalMs ?? 250;
  const http = simulatorHttp({ baseUrl: o.baseUrl, functionKey: o.functionKey, concurrency: o.concurrency, deadline });
  const servers = fleet({ call: http.call, count: o.servers, regions: o.regions, idPrefix: o.idPrefix ?? "p", gameMs: o.gameMs ?? 1000 });
  // Fail fast and loudly: without servers every player would just time out.
  if (!o.serverDelayMs) await servers.registerAll();
  servers.startHeartbeats({ heartbeatMs: o.heartbeatMs ?? 5000, delayMs: o.serverDelayMs });

  const units = plannedUnits(o);
  const results: PlayerResult[] = units.flatMap((u) => u.map((p) => ({ ...p, status: "unfinished" as const, polls: 0 })));
  let requested = 0;
  const progress = setInterval(() => o.progress?.(progressLine(started, results, requested, servers.releases())), 250);
  const context = (i: number): PlayerContext => ({
    call: http.call,
    pollMs,
    deadline,
    // First polls staggered so that players do not all arrive together.
    firstPollDelayMs: (i % 20) * (pollMs / 20),
    onMatched: (r) => servers.onSession(r.serverId!, r.sessionId!),
  });
  // One request per ticket (a party's leader asks for all); each member then waits with its own handle.
  let first = 0;
  const unitRequests = units.map((u) => {
    const i = first;
    first += u.length;
    return (async () => {
      if (o.arrivalRate) await sleep((i * 1000) / o.arrivalRate);
      const party = u.slice(1).map((m) => ({ playerId: m.playerId, ...(m.skill === undefined ? {} : { skill: m.skill }) }));
      const req = await requestTicket(results[i]!, context(i), client, party);
      if (req) requested += u.length;
      else for (let k = 1; k < u.length; k++) Object.assign(results[i + k]!, { status: "failed", error: results[i]!.error });
      return req;
    })();
  });
  const unitOf = units.flatMap((u, k) => u.map(() => k));
  const requests = results.map(async (r, i) => {
    const req = await unitRequests[unitOf[i]!]!;
    if (!req?.members) return req;
    const ticket = req.members.get(r.playerId);
    return ticket ? { ticket, requestedAt: req.requestedAt } : undefined;
  });
  const lifecycles = requests.map(async (req, i) => {
    const got = await req;
    if (got) await awaitMatch(results[i]!, got, context(i), client);
  });
  const allRequested = (async () => {
    await settledOrDeadline(requests, deadline);
    await o.onAllRequested?.();
  })();
  await Promise.all([...lifecycles, allRequested]);
  clearInterval(progress);
  await servers.stop({ deregister: o.deregister !== false });

  const { sessions, problems } = sessionsSeen(results);
  const registrationError = servers.registrationError();
  if (registrationError) problems.unshift(`server registration failed: ${registrationError.message}`);
  problems.push(...sessionProblems(sessions, o.modes));
  const rules = o.population ? labRules(o) : undefined;
  if (rules) problems.push(...rulesProblems(results, rules.rule));
  const times = results.filter((r) => r.timeToMatchMs !== undefined).map((r) => r.timeToMatchMs!);
  const count = (s: PlayerResult["status"]) => results.filter((r) => r.status === s).length;
  const told = toldAfterMatch(results);
  return {
    players: results,
    matched: count("matched"),
    timedOut: count("timedOut"),
    failed: count("failed"),
    unfinished: count("unfinished"),
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    durationMs: Date.now() - started,
    sessions,
    releases: servers.releases(),
    toldAfterMatch: told,
    statusReadsPerMatched: results.filter((r) => r.status === "matched").reduce((n, r) => n + r.polls, 0) / Math.max(1, count("matched")),
    problems,
    httpErrors: http.errors(),
    ...(rules ? { rules: rulesReport(results, rules.mode, rules.rule) } : {}),
  };
}

/** The mode and rules of a rule-set lab run. */
function labRules(o: SimulationOptions): { mode: string; rule: ModeRules } {
  const rule = o.modeRules && Object.hasOwn(o.modeRules, o.mode) ? o.modeRules[o.mode] : undefined;
  if (!rule) throw new Error(`the rule-set lab needs the rules of mode ${JSON.stringify(o.mode)} (known: ${Object.keys(o.modeRules ?? {}).join(", ")})`);
  return { mode: o.mode, rule };
}

type Planned = { playerId: string; mode: string; region: string; skill?: number; party?: string[]; latencies?: Record<string, number> };

/** The players, one array per ticket (the leader first): sessions of whole size, or the lab's population. */
function plannedUnits(o: SimulationOptions): Planned[][] {
  if (o.latencyPlaces && !o.population) {
    const places = o.latencyPlaces;
    return places
      .slice(0, o.players)
      .map((place, i) => [
        { playerId: `${o.idPrefix ?? "p"}${i}`, mode: o.mode, region: place.home, ...(o.sendLatencies ? { latencies: place.latencies } : {}) },
      ]);
  }
  if (!o.population) return planPlayers(o).map((p) => [p]);
  const { mode, rule } = labRules(o);
  let first = 0;
  return planUnits(o.population, o.players, rule.maxPartySize, o.idPrefix ?? "p").map((u, k) => {
    // With latency places (--latency --rules): a ticket lives at its leader's place (player index = id number),
    // and its latencies (the leader's) are every member's.
    const place = o.latencyPlaces?.[first];
    first += u.members.length;
    const region = place ? place.home : o.regions[k % o.regions.length]!;
    const latencies = place && o.sendLatencies ? { latencies: place.latencies } : {};
    const party = u.members.map((m) => m.playerId);
    return u.members.map((m) => ({
      playerId: m.playerId,
      mode,
      region,
      skill: m.skill,
      ...(party.length > 1 ? { party } : {}),
      ...latencies,
    }));
  });
}

/**
 * Per matched player of a session whose assignment time some client learned: when it saw its match, after
 * that; and why the slow ones were slow — told by push, or by the status read of a push connection that came
 * up only after the match (Web PubSub delivers only to connections that exist).
 */
function toldAfterMatch(results: PlayerResult[]): SimulationResult["toldAfterMatch"] {
  const matched = results.filter((r) => r.status === "matched" && r.finishedAt !== undefined);
  const assignedAt = new Map<string, number>();
  for (const r of matched) if (r.assignedAt !== undefined) assignedAt.set(r.sessionId!, r.assignedAt);
  const told = matched.filter((r) => assignedAt.has(r.sessionId!));
  const after = (r: PlayerResult, t: number) => t - assignedAt.get(r.sessionId!)!;
  const byPush = told.filter((r) => r.via === "push").map((r) => after(r, r.finishedAt!));
  const late = told.filter((r) => r.via !== "push" && r.pushConnectedAt !== undefined && r.pushConnectedAt > assignedAt.get(r.sessionId!)!);
  const all = told.map((r) => after(r, r.finishedAt!));
  return {
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    players: all.length,
    byPush: { p50: percentile(byPush, 50), p99: percentile(byPush, 99), players: byPush.length },
    connectedAfterMatch: {
      players: late.length,
      // How long after the match their connection came up, and how long after the match they had asked.
      connectedP50: percentile(
        late.map((r) => after(r, r.pushConnectedAt!)),
        50,
      ),
      ticketAnsweredP50: percentile(
        late.filter((r) => r.ticketAt !== undefined).map((r) => after(r, r.ticketAt!)),
        50,
      ),
    },
  };
}

export function timeToMatchChart(result: SimulationResult, title: string): string {
  const times = result.players.filter((r) => r.timeToMatchMs !== undefined).map((r) => r.timeToMatchMs!);
  return histogram({
    title,
    xLabel: "time to match (ms, as seen by a polling client)",
    yLabel: "players",
    values: times,
    bins: 30,
    min: 0,
    markers: [
      { value: result.p50, label: "p50" },
      { value: result.p95, label: "p95", color: "#dd6b20" },
      { value: result.p99, label: "p99", color: "#805ad5" },
    ].filter((m) => Number.isFinite(m.value)),
  });
}
