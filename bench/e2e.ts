/**
 * End to end through the local runtime (`startLocalRuntime`, local-runtime/host/runtime): real HTTP requests to
 * the app's ticket endpoint, the in-process Event Hubs, the Durable engine, the real registered functions,
 * on the bench's own redis-server.
 *
 * Measured:
 *  - request -> server address, as a game client sees it: POST /api/tickets, then polling the ticket URI every
 *    POLL_MS until it says "matched" (includes up to POLL_MS of polling delay); every POLL_EVERY_NTH_PLAYER-th
 *    player polls, so that the bench's own polling does not become the load it measures;
 *  - request -> player told: the moment the player's `matchRequest` orchestrator episode completes with
 *    status "matched" (observed by wrapping the functions core's invoke);
 *  - session full -> players told: from the moment the enqueue that filled the session returned (observed by
 *    wrapping MatchmakingStore.prototype.enqueue; the app and the bench share that module) until the LAST
 *    player of that session was told;
 *  - orchestrator episodes and function invocations per matched player (every invoke through the core).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../src/config/settings";
import { requestJson } from "../tools/jsonHttp";
import { setTimeout as sleep } from "node:timers/promises";
import { percentile } from "../src/lib/percentile";

export const POLL_MS = 25;
/** Only every Nth player polls its ticket (at POLL_MS): enough samples, without the bench's polling being the load. */
export const POLL_EVERY_NTH_PLAYER = 10;

export type EndToEndResult =
  | { available: false; reason: string }
  | {
      available: true;
      players: number;
      sessionSize: number;
      matched: number;
      failed: number;
      seconds: number;
      requestToAddressMs: number[];
      requestToToldMs: number[];
      sessionFullToToldMs: number[];
      /** POST /api/tickets -> the player's request reached the store (Event Hub + addPlayers). */
      requestToEnqueuedMs: number[];
      /** (stage) session full -> its match-made message published (assign + announce). */
      sessionFullToPublishedMs: number[];
      /** (stage) match-made published -> the session's last player told (Event Hub delivery, matchMade, raiseEvent, episode). */
      publishedToToldMs: number[];
      /** Per function: invocations and wall time per invocation (ms). */
      functionTimes: Record<string, { count: number; meanMs: number; p95Ms: number; maxMs: number }>;
      orchestratorEpisodesPerMatched: number;
      durableMetrics?: { orchestratorEpisodes: number; activityInvocations: number; instances: number };
      invocationsPerMatched: Record<string, number>;
      totalInvocationsPerMatched: number;
      pollsPerPlayer: number;
      /** Request rate the clients kept (players/s). */
      ratePerSec: number;
      /** CPU the bench process (local runtime + clients, one event loop) used during the run, % of one core. */
      processCpuPercent: number;
      notes: string[];
    };

interface RuntimeLike {
  baseUrl: string;
  eventHubs(): { send(hub: string, events: { body: unknown }[]): Promise<void> };
  keys: { functionKeys: string[]; masterKey: string };
  core: { invoke: (name: string, req: unknown) => Promise<unknown>; registrations: Map<string, { trigger: { type: string } }> };
  durable(): { metrics(): { orchestratorEpisodes: number; activityInvocations: number; instances: number } } | undefined;
  drainEvents(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

function parseTyped(v: unknown): unknown {
  if (!v || typeof v !== "object") return undefined;
  const d = v as { json?: string; string?: string };
  const raw = d.json ?? d.string;
  if (typeof raw !== "string") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export async function runEndToEnd(o: {
  root: string;
  redisUrl: string;
  players: number;
  ratePerSec: number;
  sessionSize: number;
  progress: (m: string) => void;
}): Promise<EndToEndResult> {
  const runtimePath = join(o.root, "dist", "local-runtime", "host", "runtime.js");
  const entry = join(o.root, "dist", "src", "index.js");
  if (!existsSync(runtimePath)) return { available: false, reason: "local runtime unavailable (dist/local-runtime/host/runtime.js not built)" };
  if (!existsSync(entry)) return { available: false, reason: "local runtime unavailable: the app entry dist/src/index.js does not exist yet" };
  // Loaded only now, from dist: the runtime installs its own @azure/functions-core and loads the app, which the
  // other bench parts must not pay for; and the store module must be the very instance the app uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time, loaded synchronously from dist
  const mod = require(runtimePath) as { startLocalRuntime?: (opts: Record<string, unknown>) => Promise<RuntimeLike> };
  if (typeof mod.startLocalRuntime !== "function") return { available: false, reason: "local runtime unavailable: startLocalRuntime is not exported" };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance the app loaded
  const storeMod = require(join(o.root, "dist", "src", "store")) as { MatchmakingStore?: { prototype: Record<string, unknown> } };

  const region = "westeurope";
  const mode = "squad";
  const players = Math.max(o.sessionSize, Math.floor(o.players / o.sessionSize) * o.sessionSize);
  const logs: string[] = [];
  let runtime: RuntimeLike;
  try {
    runtime = await mod.startLocalRuntime({
      appDir: o.root,
      port: 0,
      useLocalSettings: false,
      env: {
        // Binding expressions (%PLAYER_REQUESTS_HUB% ...) resolve from the environment: give every default explicitly.
        ...DEFAULTS,
        REDIS_CONNECTION_STRING: o.redisUrl,
        REDIS_KEY_PREFIX: "e2e",
        MATCH_MODES: JSON.stringify({ [mode]: o.sessionSize }),
        MATCH_REGIONS: JSON.stringify([region]),
        MATCH_TIMEOUT_SECONDS: "60",
        TICKET_SIGNING_KEY: "bench-signing-key-0123456789abcdef0123456789",
        SERVER_LEASE_SECONDS: "3600",
      },
      log: (m: string) => logs.push(m),
    });
  } catch (err) {
    return {
      available: false,
      reason: `local runtime unavailable: startLocalRuntime failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    };
  }

  const notes: string[] = [];
  const fullAt = new Map<string, number>();
  const toldAtByTicket = new Map<string, { at: number; sessionId: string }>();
  const invocations = new Map<string, number>();
  const durations = new Map<string, number[]>();
  const enqueuedAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const orchestratorNames = new Set(
    [...runtime.core.registrations.entries()].filter(([, r]) => /^orchestrationTrigger$/i.test(r.trigger.type)).map(([n]) => n),
  );
  // Observe the app from inside: the core's invoke (every function call) and the store's enqueue.
  const origInvoke = runtime.core.invoke.bind(runtime.core);
  runtime.core.invoke = async (name: string, req: unknown) => {
    invocations.set(name, (invocations.get(name) ?? 0) + 1);
    const started = performance.now();
    const res = await origInvoke(name, req);
    const d = durations.get(name) ?? [];
    d.push(performance.now() - started);
    durations.set(name, d);
    if (orchestratorNames.has(name)) {
      const state = parseTyped((res as { returnValue?: unknown })?.returnValue) as
        { isDone?: boolean; output?: { status?: string; ticketId?: string; sessionId?: string } } | undefined;
      if (state?.isDone && state.output?.status === "matched" && state.output.ticketId) {
        toldAtByTicket.set(state.output.ticketId, { at: performance.now(), sessionId: String(state.output.sessionId) });
      }
    }
    return res;
  };
  const proto = storeMod.MatchmakingStore?.prototype as { enqueue?: (...a: unknown[]) => Promise<{ readySessions: { sessionId: string }[] }> } | undefined;
  const origEnqueue = proto?.enqueue;
  if (proto && origEnqueue) {
    proto.enqueue = async function (this: unknown, ...a: unknown[]) {
      const r = await origEnqueue.apply(this, a);
      const now = performance.now();
      for (const q of (a[0] as { ticketId?: string }[] | undefined) ?? []) if (q.ticketId && !enqueuedAt.has(q.ticketId)) enqueuedAt.set(q.ticketId, now);
      for (const s of r.readySessions ?? []) if (!fullAt.has(s.sessionId)) fullAt.set(s.sessionId, now);
      return r;
    };
  } else notes.push("MatchmakingStore.prototype.enqueue not found: session-full times not observed");

  // match-made publications, by session (the in-process Event Hubs the app publishes to).
  const hubs = runtime.eventHubs();
  const origSend = hubs.send.bind(hubs);
  hubs.send = async (hub: string, events: { body: unknown }[]) => {
    await origSend(hub, events);
    const now = performance.now();
    for (const ev of events) {
      let body = ev.body as { sessionId?: string } | string | undefined;
      if (typeof body === "string") {
        try {
          body = JSON.parse(body) as { sessionId?: string };
        } catch {
          body = undefined;
        }
      }
      const sid = typeof body === "object" && body ? body.sessionId : undefined;
      if (sid && !publishedAt.has(sid)) publishedAt.set(sid, now);
    }
  };

  const base = runtime.baseUrl;
  const fnKey = runtime.keys.functionKeys[0] ?? "";
  try {
    // Game servers for every session (plus a few), registered before the clock starts.
    const servers = players / o.sessionSize + 5;
    for (let i = 0; i < servers; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, servers - i) }, async (_, j) => {
          const address = `10.1.${((i + j) >> 8) & 255}.${(i + j) & 255}:7777`;
          const res = await requestJson(`${base}/api/servers/bench-srv-${i + j}`, "PUT", { address, region }, { "x-functions-key": fnKey });
          if (res.status < 200 || res.status > 299) throw new Error(`PUT /api/servers answered ${res.status}: ${JSON.stringify(res.json)}`);
        }),
      );
    }
    const episodesBefore = runtime.durable()?.metrics();
    invocations.clear();
    durations.clear();

    const requestToAddress: number[] = [];
    const requestedAt = new Map<string, number>();
    let failed = 0;
    let polls = 0;
    const failures: string[] = [];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const gapMs = 1000 / o.ratePerSec;
    const clients: Promise<void>[] = [];
    for (let i = 0; i < players; i++) {
      const due = t0 + i * gapMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      if (i % 50 === 0) o.progress(`end to end: ${i}/${players} players requested`);
      clients.push(
        (async () => {
          const playerId = `bench-p${i}`;
          const start = performance.now();
          try {
            const res = await requestJson(`${base}/api/tickets`, "POST", { playerId, mode, region });
            const body = (res.json ?? {}) as { ticketId?: string; token?: string; ticketUri?: string };
            if (res.status !== 202 || !body.ticketId || !body.token) throw new Error(`POST /api/tickets answered ${res.status}: ${JSON.stringify(body)}`);
            requestedAt.set(body.ticketId, start);
            if (i % POLL_EVERY_NTH_PLAYER !== 0) return;
            const uri = body.ticketUri ? new URL(body.ticketUri, base).toString() : `${base}/api/tickets/${playerId}`;
            const deadline = start + 30_000;
            for (;;) {
              await sleep(POLL_MS);
              polls++;
              const t = ((await requestJson(uri, "GET", undefined, { authorization: `Bearer ${body.token}` })).json ?? {}) as {
                status?: string;
                server?: unknown;
              };
              if (t.status === "matched" && t.server) {
                requestToAddress.push(performance.now() - start);
                return;
              }
              if (t.status && t.status !== "searching") throw new Error(`ticket ended ${t.status}`);
              if (performance.now() > deadline) throw new Error("no match within 30 s");
            }
          } catch (err) {
            failed++;
            if (failures.length < 5) failures.push(err instanceof Error ? err.message : String(err));
          }
        })(),
      );
    }
    await Promise.all(clients);
    // Orchestrators are told by matchMade; give the last events time to land.
    await runtime.drainEvents(10_000);
    const settleDeadline = performance.now() + 5_000;
    while (toldAtByTicket.size < requestedAt.size && performance.now() < settleDeadline) await sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const processCpuPercent = ((cpu.user + cpu.system) / 1e6 / seconds) * 100;
    if (failures.length) notes.push(`failures (first ${failures.length}): ${failures.join(" | ")}`);
    if (failures.length || toldAtByTicket.size < players) {
      const errs = logs.filter((l) => /error|fail|exception/i.test(l)).slice(-5);
      if (errs.length) notes.push(`runtime log (last errors): ${errs.map((l) => l.slice(0, 300)).join(" | ")}`);
    }

    const requestToTold: number[] = [];
    const lastToldBySession = new Map<string, number>();
    for (const [ticketId, told] of toldAtByTicket) {
      const req = requestedAt.get(ticketId);
      if (req !== undefined) requestToTold.push(told.at - req);
      lastToldBySession.set(told.sessionId, Math.max(lastToldBySession.get(told.sessionId) ?? 0, told.at));
    }
    const sessionFullToTold: number[] = [];
    const sessionFullToPublished: number[] = [];
    const publishedToTold: number[] = [];
    for (const [sessionId, last] of lastToldBySession) {
      const full = fullAt.get(sessionId);
      const pub = publishedAt.get(sessionId);
      if (full !== undefined) sessionFullToTold.push(last - full);
      if (full !== undefined && pub !== undefined) sessionFullToPublished.push(pub - full);
      if (pub !== undefined) publishedToTold.push(last - pub);
    }
    const matched = toldAtByTicket.size;
    const requestToEnqueued: number[] = [];
    for (const [ticketId, at] of enqueuedAt) {
      const req = requestedAt.get(ticketId);
      if (req !== undefined) requestToEnqueued.push(at - req);
    }
    const functionTimes = Object.fromEntries(
      [...durations.entries()]
        .sort()
        .map(([n, d]) => [n, { count: d.length, meanMs: d.reduce((x, y) => x + y, 0) / d.length, p95Ms: percentile(d, 95), maxMs: Math.max(...d) }]),
    );
    const episodes = [...invocations.entries()].filter(([n]) => orchestratorNames.has(n)).reduce((a, [, c]) => a + c, 0);
    const after = runtime.durable()?.metrics();
    const durableMetrics =
      after && episodesBefore
        ? {
            orchestratorEpisodes: after.orchestratorEpisodes - episodesBefore.orchestratorEpisodes,
            activityInvocations: after.activityInvocations - episodesBefore.activityInvocations,
            instances: after.instances - episodesBefore.instances,
          }
        : undefined;
    const per = (n: number): number => (matched ? n / matched : NaN);
    const invocationsPerMatched = Object.fromEntries([...invocations.entries()].sort().map(([n, c]) => [n, per(c)]));
    return {
      available: true,
      players,
      sessionSize: o.sessionSize,
      matched,
      failed,
      seconds,
      requestToAddressMs: requestToAddress,
      requestToToldMs: requestToTold,
      sessionFullToToldMs: sessionFullToTold,
      requestToEnqueuedMs: requestToEnqueued,
      sessionFullToPublishedMs: sessionFullToPublished,
      publishedToToldMs: publishedToTold,
      functionTimes,
      orchestratorEpisodesPerMatched: per(episodes),
      durableMetrics,
      invocationsPerMatched,
      totalInvocationsPerMatched: per([...invocations.values()].reduce((a, b) => a + b, 0)),
      pollsPerPlayer: polls / Math.max(1, Math.ceil(players / POLL_EVERY_NTH_PLAYER)),
      ratePerSec: o.ratePerSec,
      processCpuPercent,
      notes,
    };
  } finally {
    runtime.core.invoke = origInvoke;
    hubs.send = origSend;
    if (proto && origEnqueue) proto.enqueue = origEnqueue;
    await runtime.stop().catch((err: unknown) => notes.push(`runtime.stop failed: ${String(err)}`));
  }
}
