/**
 * `npm run simulate -- --players N --servers M [--mode duel|squad|mixed] [--regions a,b] [--url http://localhost:7071]`
 *
 * Plays a crowd against the matchmaker through its public HTTP API only:
 * - game servers register (PUT /api/servers/{id}, function key) and heartbeat; when players report being sent
 *   to a server, that server "plays" for --game-ms and then releases itself (POST .../release);
 * - players ask for a match (POST /api/tickets) and poll the Durable status endpoint they were given
 *   (statusQueryGetUri) until their instance completes.
 * A live progress line goes to stderr; then a summary (matched, timed out, time-to-match percentiles,
 * orchestrator episodes per player, consistency checks) and an SVG histogram of time-to-match.
 *
 * Without --url it starts the local runtime in this process (development only).
 * `runSimulation()` is also what the end-to-end tests drive.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { histogram, percentile } from "./svgChart";
import { requestJson } from "./jsonHttp";
import { DEFAULT_FUNCTION_KEY } from "../local-runtime/host/runtime";
import { Limiter } from "../local-runtime/concurrency";

export interface SimulationOptions {
  baseUrl: string;
  players: number;
  servers: number;
  mode: string; // a mode name or "mixed"
  modes: Record<string, number>;
  regions: string[];
  functionKey?: string;
  /** How long a server "plays" before releasing itself. */
  gameMs?: number;
  heartbeatMs?: number;
  pollIntervalMs?: number;
  /** Concurrent HTTP requests the simulator makes. */
  concurrency?: number;
  /** Give up waiting for players after this long. */
  deadlineMs?: number;
  /** Players per second to arrive (default: all at once). */
  arrivalRate?: number;
  progress?: (line: string) => void;
  /** Prefix of player and server ids, so several runs can share one Redis. */
  idPrefix?: string;
  /** Register servers this long after the players started (tests of "too few servers, then more"). */
  serverDelayMs?: number;
  /** Deregister the servers at the end (default true). */
  deregister?: boolean;
  /** Called once all players have their ticket (tests inject faults or restarts here). */
  onAllRequested?: () => Promise<void> | void;
}

export interface PlayerResult {
  playerId: string;
  ticketId?: string;
  mode: string;
  region: string;
  status: "matched" | "timedOut" | "cancelled" | "failed" | "unfinished";
  sessionId?: string;
  serverId?: string;
  server?: string;
  players?: { playerId: string; ticketId: string }[];
  timeToMatchMs?: number;
  /** When the client saw its outcome (epoch ms). */
  finishedAt?: number;
  polls: number;
  error?: string;
}

export interface SimulationResult {
  players: PlayerResult[];
  matched: number;
  timedOut: number;
  failed: number;
  unfinished: number;
  p50: number;
  p95: number;
  p99: number;
  durationMs: number;
  sessions: Map<string, { serverId: string; mode: string; region: string; players: string[] }>;
  releases: number;
  /** Problems found by the consistency checks; empty means none. */
  problems: string[];
  httpErrors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Buckets in whole sessions, so that with enough servers every player can be matched. */
export function planPlayers(
  o: Pick<SimulationOptions, "players" | "mode" | "modes" | "regions" | "idPrefix">,
): { playerId: string; mode: string; region: string }[] {
  const modes = o.mode === "mixed" ? Object.keys(o.modes) : [o.mode];
  for (const m of modes) if (!o.modes[m]) throw new Error(`Unknown mode "${m}" (known: ${Object.keys(o.modes).join(", ")})`);
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

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const started = Date.now();
  // Limited pools, so the simulator does not open thousands of sockets at once. Separate ones: a burst of
  // ticket requests must not hold back the polls of players who already have one (each real player is its
  // own client), nor the game servers' calls.
  const per = Math.max(2, Math.floor((o.concurrency ?? 48) / 3));
  const pools = { tickets: new Limiter(per), polls: new Limiter(per), servers: new Limiter(per) };
  type Pool = keyof typeof pools;
  const key = o.functionKey ?? "";
  const pollMs = o.pollIntervalMs ?? 250;
  const gameMs = o.gameMs ?? 1000;
  const deadline = started + (o.deadlineMs ?? 120_000);
  let httpErrors = 0;
  let stopped = false;

  const call = (pool: Pool, method: string, url: string, body?: unknown, withKey = false, onSend?: () => void) =>
    pools[pool].run(async () => {
      onSend?.();
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await requestJson(url.startsWith("http") ? url : `${o.baseUrl}${url}`, method, body, withKey && key ? { "x-functions-key": key } : {});
          if (res.status >= 500 || res.status === 429) {
            httpErrors++;
            if (attempt < 20 && Date.now() < deadline) {
              await sleep(200 * (attempt + 1));
              continue;
            }
          }
          return res;
        } catch (err) {
          // The runtime restarting (tests) or a refused connection: try again a little later.
          httpErrors++;
          if (attempt >= 50 || Date.now() > deadline) throw err;
          await sleep(100 * Math.min(10, attempt + 1));
        }
      }
    });

  // --- servers -------------------------------------------------------------------------------------
  const serverIds = Array.from({ length: o.servers }, (_, i) => `${o.idPrefix ?? "p"}srv${i}`);
  const serverRegion = (i: number) => o.regions[i % o.regions.length]!;
  const serverAddress = (i: number) => `127.0.0.1:${30000 + i}`;
  const releasedSessions = new Set<string>();
  let releases = 0;
  const registerAll = () =>
    Promise.all(
      serverIds.map(async (id, i) => {
        const r = await call("servers", "PUT", `/api/servers/${id}`, { address: serverAddress(i), region: serverRegion(i) }, true);
        if (r.status >= 300) throw new Error(`PUT /api/servers/${id} answered ${r.status}: ${JSON.stringify(r.json)}`);
      }),
    );
  let registrationError: Error | undefined;
  if (!o.serverDelayMs) {
    // Fail fast and loudly: without servers every player would just time out.
    await registerAll();
  }
  const heartbeat = (async () => {
    if (o.serverDelayMs) {
      await sleep(o.serverDelayMs);
      await registerAll().catch((err: Error) => (registrationError = err));
    }
    while (!stopped) {
      await sleep(o.heartbeatMs ?? 5000);
      if (stopped) break;
      await registerAll().catch(() => undefined);
    }
  })();
  heartbeat.catch(() => undefined);
  const gameEnds: Promise<void>[] = [];
  const onServerSession = (serverId: string, sessionId: string) => {
    if (releasedSessions.has(sessionId)) return;
    releasedSessions.add(sessionId);
    const i = serverIds.indexOf(serverId);
    gameEnds.push(
      (async () => {
        await sleep(gameMs);
        const r = await call("servers", "POST", `/api/servers/${serverId}/release?region=${serverRegion(Math.max(0, i))}`, { sessionId }, true);
        if (r.status < 300) releases++;
      })().catch(() => undefined),
    );
  };

  // --- players -------------------------------------------------------------------------------------
  const plan = planPlayers(o);
  const results: PlayerResult[] = plan.map((p) => ({ ...p, status: "unfinished", polls: 0 }));
  const requestedAt = new Map<string, number>();
  const statusUri = new Map<string, string>();
  let requested = 0;

  const progress = setInterval(() => {
    const done = results.filter((r) => r.status !== "unfinished");
    const line =
      `[simulate] ${((Date.now() - started) / 1000).toFixed(1)}s  requested ${requested}/${plan.length}  matched ${done.filter((r) => r.status === "matched").length}` +
      `  timed out ${done.filter((r) => r.status === "timedOut").length}  waiting ${plan.length - done.length}  released ${releases}`;
    o.progress?.(line);
  }, 250);

  const request = async (r: PlayerResult) => {
    // Time to match counts from when the request leaves the client, not from when it queued in the simulator.
    const res = await call("tickets", "POST", "/api/tickets", { playerId: r.playerId, mode: r.mode, region: r.region }, false, () => {
      if (!requestedAt.has(r.playerId)) requestedAt.set(r.playerId, Date.now());
    });
    const body = res.json as { ticketId?: string; statusQueryGetUri?: string };
    if (res.status !== 202 || !body?.statusQueryGetUri) {
      r.status = "failed";
      r.error = `POST /api/tickets answered ${res.status}: ${JSON.stringify(res.json)}`;
      return;
    }
    r.ticketId = body.ticketId;
    statusUri.set(r.playerId, body.statusQueryGetUri);
    requested++;
  };
  const poll = async (r: PlayerResult) => {
    while (r.status === "unfinished" && Date.now() < deadline) {
      const uri = statusUri.get(r.playerId);
      if (!uri) return;
      r.polls++;
      const res = await call("polls", "GET", uri).catch(() => undefined);
      const body = res?.json as { runtimeStatus?: string; output?: Record<string, unknown> } | undefined;
      if (res && res.status === 200 && body?.runtimeStatus) {
        if (body.runtimeStatus !== "Completed") {
          r.status = "failed";
          r.error = `instance ${body.runtimeStatus}`;
          return;
        }
        const out = body.output ?? {};
        r.finishedAt = Date.now();
        if (out.status === "matched") {
          r.status = "matched";
          r.sessionId = String(out.sessionId);
          r.serverId = String(out.serverId);
          r.server = String(out.server);
          r.players = out.players as PlayerResult["players"];
          r.timeToMatchMs = Date.now() - requestedAt.get(r.playerId)!;
          onServerSession(r.serverId, r.sessionId);
        } else r.status = out.status === "cancelled" ? "cancelled" : "timedOut";
        return;
      }
      await sleep(pollMs);
    }
  };
  const requests = results.map(async (r, i) => {
    if (o.arrivalRate) await sleep((i * 1000) / o.arrivalRate);
    await request(r);
  });
  // Each player polls as soon as it has its ticket, first poll staggered so they do not all arrive together.
  const lifecycles = requests.map(async (requestDone, i) => {
    await requestDone;
    await sleep((i % 20) * (pollMs / 20));
    await poll(results[i]!);
  });
  const allRequested = (async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(requests), new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    await o.onAllRequested?.();
  })();
  await Promise.all([...lifecycles, allRequested]);

  stopped = true;
  clearInterval(progress);
  await Promise.all(gameEnds);
  if (o.deregister !== false)
    await Promise.all(
      serverIds.map((id, i) => call("servers", "DELETE", `/api/servers/${id}?region=${serverRegion(i)}`, undefined, true).catch(() => undefined)),
    );

  // --- consistency ---------------------------------------------------------------------------------
  const problems: string[] = [];
  if (registrationError) problems.push(`server registration failed: ${registrationError.message}`);
  const sessions = new Map<string, { serverId: string; mode: string; region: string; players: string[] }>();
  const seen = new Set<string>();
  for (const r of results.filter((x) => x.status === "matched")) {
    const s = sessions.get(r.sessionId!);
    const roster = (r.players ?? []).map((p) => p.playerId).sort();
    if (!roster.includes(r.playerId)) problems.push(`${r.playerId} is not in the roster of its own session ${r.sessionId}`);
    if (!s) sessions.set(r.sessionId!, { serverId: r.serverId!, mode: r.mode, region: r.region, players: roster });
    else {
      if (s.serverId !== r.serverId) problems.push(`session ${r.sessionId} is on two servers: ${s.serverId} and ${r.serverId}`);
      if (s.players.join() !== roster.join()) problems.push(`players of session ${r.sessionId} disagree on its roster`);
      if (s.mode !== r.mode || s.region !== r.region) problems.push(`session ${r.sessionId} mixes buckets`);
    }
    if (seen.has(r.playerId)) problems.push(`${r.playerId} matched twice`);
    seen.add(r.playerId);
  }
  const inSessions = new Map<string, string>();
  for (const [id, s] of sessions) {
    if (s.players.length !== o.modes[s.mode]) problems.push(`session ${id} has ${s.players.length} players, mode ${s.mode} needs ${o.modes[s.mode]}`);
    for (const p of s.players) {
      if (inSessions.has(p)) problems.push(`${p} is in sessions ${inSessions.get(p)} and ${id}`);
      inSessions.set(p, id);
    }
  }
  const perServer = new Map<string, number>();
  for (const s of sessions.values()) perServer.set(s.serverId, (perServer.get(s.serverId) ?? 0) + 1);

  const times = results.filter((r) => r.timeToMatchMs !== undefined).map((r) => r.timeToMatchMs!);
  return {
    players: results,
    matched: results.filter((r) => r.status === "matched").length,
    timedOut: results.filter((r) => r.status === "timedOut").length,
    failed: results.filter((r) => r.status === "failed").length,
    unfinished: results.filter((r) => r.status === "unfinished").length,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    durationMs: Date.now() - started,
    sessions,
    releases,
    problems,
    httpErrors,
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

// ---------------------------------------------------------------------------------------------------
// CLI

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function cli(): Promise<void> {
  if (process.argv.includes("--help")) {
    console.log(
      "npm run simulate -- --players N --servers M [--mode duel|squad|mixed] [--regions a,b] [--url http://localhost:7071]\n" +
        "  [--key FUNCTION_KEY] [--game-ms 1000] [--poll-ms 250] [--timeout-s 60] [--chart simulate-time-to-match.svg] [--rate PLAYERS_PER_S]",
    );
    return;
  }
  const players = Number(flag("players") ?? 100);
  const servers = Number(flag("servers") ?? Math.ceil(players / 4));
  const url = flag("url");
  const regions = (flag("regions") ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const chartFile = resolve(flag("chart") ?? "simulate-time-to-match.svg");
  let baseUrl = url ?? "";
  // The local runtime's function key unless told otherwise (see the banner of npm start).
  let key = flag("key") ?? process.env.LOCAL_FUNCTION_KEY ?? (url ? DEFAULT_FUNCTION_KEY : "");
  let stopRuntime: (() => Promise<void>) | undefined;
  let episodes: (() => number | undefined) | undefined;
  let remoteEpisodes: (() => Promise<void>) | undefined;
  let modes: Record<string, number> = JSON.parse(process.env.MATCH_MODES ?? '{"duel":2,"squad":4}') as Record<string, number>;
  let allRegions = regions;

  if (!url) {
    // In-process local runtime: the same one `npm start` runs.
    const { startLocalRuntime } = await import("../local-runtime/host/runtime.js");
    const env: Record<string, string> = {};
    if (regions.length) env.MATCH_REGIONS = JSON.stringify(regions);
    if (flag("timeout-s")) env.MATCH_TIMEOUT_SECONDS = String(flag("timeout-s"));
    const rt = await startLocalRuntime({ appDir: resolve(__dirname, "..", ".."), port: Number(flag("port") ?? 0), env, log: () => undefined });
    baseUrl = rt.baseUrl;
    key ||= rt.keys.functionKeys[0]!;
    stopRuntime = () => rt.stop();
    episodes = () => rt.durable()?.metrics().orchestratorEpisodes;
    modes = JSON.parse(process.env.MATCH_MODES ?? JSON.stringify(modes)) as Record<string, number>;
    allRegions = regions.length ? regions : (JSON.parse(process.env.MATCH_REGIONS ?? '["westeurope"]') as string[]);
    console.error(`Started the local runtime at ${baseUrl} (development only).`);
  }
  if (!allRegions.length) allRegions = ["westeurope"];
  if (!episodes) {
    // A local runtime in another process publishes its counters; a real Azure host does not.
    const read = async () => {
      try {
        const r = await fetch(`${baseUrl}/runtime/local/metrics`);
        if (!r.ok) return undefined;
        return ((await r.json()) as { durable?: { orchestratorEpisodes?: number } }).durable?.orchestratorEpisodes;
      } catch {
        return undefined;
      }
    };
    const first = await read();
    if (first !== undefined) {
      let latest = first;
      episodes = () => latest;
      remoteEpisodes = async () => {
        latest = (await read()) ?? latest;
      };
    }
  }
  const before = episodes?.() ?? 0;
  const result = await runSimulation({
    baseUrl,
    players,
    servers,
    mode: flag("mode") ?? "mixed",
    modes,
    regions: allRegions,
    functionKey: key,
    gameMs: Number(flag("game-ms") ?? 1000),
    pollIntervalMs: Number(flag("poll-ms") ?? 250),
    deadlineMs: (Number(flag("timeout-s") ?? 60) + 60) * 1000,
    arrivalRate: flag("rate") ? Number(flag("rate")) : undefined,
    idPrefix: `sim${Date.now().toString(36)}-`,
    progress: (line) => process.stderr.write(`\r${line}   `),
  });
  process.stderr.write("\n");
  await remoteEpisodes?.();
  const ep = episodes ? (episodes() ?? 0) - before : undefined;
  const fmt = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : "n/a");
  const lines = [
    "",
    `Players: ${players}   servers: ${servers}   regions: ${allRegions.join(", ")}   duration: ${(result.durationMs / 1000).toFixed(1)} s`,
    `Matched: ${result.matched}   timed out: ${result.timedOut}   failed: ${result.failed}   unfinished: ${result.unfinished}`,
    `Time to match: p50 ${fmt(result.p50)}   p95 ${fmt(result.p95)}   p99 ${fmt(result.p99)}`,
    `Sessions: ${result.sessions.size}   server releases: ${result.releases}   HTTP retries: ${result.httpErrors}`,
    `Orchestrator episodes per player: ${ep === undefined ? "n/a (remote runtime; see the host's metrics)" : (ep / Math.max(1, players)).toFixed(2)}`,
    `Consistency: ${result.problems.length ? `${result.problems.length} problem(s):\n  ${result.problems.slice(0, 20).join("\n  ")}` : "ok (every session full, on one server, nobody twice)"}`,
  ];
  writeFileSync(chartFile, timeToMatchChart(result, `Time to match, ${players} players, ${servers} servers`));
  lines.push(`Chart: ${chartFile}`);
  console.log(lines.join("\n"));
  await stopRuntime?.();
  process.exit(result.problems.length || result.failed ? 1 : 0);
}

if (require.main === module) {
  cli().catch((err: Error) => {
    console.error(process.env.DEBUG ? (err.stack ?? err.message) : `simulate: ${err.message}`);
    process.exit(1);
  });
}
