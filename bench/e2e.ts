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
 *  - orchestrator episodes and function invocations per matched player (every invoke through the core);
 *  - Durable calls per matched player by kind (bench/durableCalls.ts), and per ticket poll, measured apart
 *    after the crowd (polls of finished tickets with nothing else running).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../src/config/settings";
import { requestJson } from "../tools/jsonHttp";
import { setTimeout as sleep } from "node:timers/promises";
import { percentile } from "../src/lib/percentile";
import { countDurableCalls, DurableCallCounter, perPlayer } from "./durableCalls";

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
      /** Durable client calls per matched player, by kind (start, status, raiseEvent, ...), ticket polls excluded where they could be told apart. */
      durableCallsPerMatched?: Record<string, number>;
      /** Durable client calls per GET of the ticket endpoint (measured apart), by kind. */
      durableCallsPerTicketPoll?: Record<string, number>;
      /** Where the Durable counts come from. */
      durableCallsSource?: string;
      totalInvocationsPerMatched: number;
      pollsPerPlayer: number;
      /** Request rate the clients kept (players/s). */
      ratePerSec: number;
      /** CPU the bench process (local runtime + clients, one event loop) used during the run, % of one core. */
      processCpuPercent: number;
      notes: string[];
    };

interface DurableLike {
  metrics(): { orchestratorEpisodes: number; activityInvocations: number; instances: number; callsByKind?: Record<string, number> };
  handleHttp(req: { method: string; url: string }): Promise<unknown>;
}

export interface RuntimeLike {
  baseUrl: string;
  eventHubs(): { send(hub: string, events: { body: unknown }[]): Promise<void> };
  keys: { functionKeys: string[]; masterKey: string };
  core: { invoke: (name: string, req: unknown) => Promise<unknown>; registrations: Map<string, { trigger: { type: string } }> };
  durable(): DurableLike | undefined;
  drainEvents(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

interface StoreModule {
  MatchmakingStore?: { prototype: { enqueue?: (...a: unknown[]) => Promise<{ readySessions: { sessionId: string }[] }> } };
}

export type Unavailable = { available: false; reason: string };
export type EndToEndOptions = {
  root: string;
  redisUrl: string;
  players: number;
  ratePerSec: number;
  sessionSize: number;
  progress: (m: string) => void;
  /** Settings over the bench's defaults. */
  env?: Record<string, string>;
};

export const REGION = "westeurope";
export const MODE = "squad";

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

/** Whether an orchestrator's returned state (typed data holding its JSON) is a finished one, without parsing it. */
function isDoneState(v: unknown): boolean {
  const raw = (v as { json?: unknown; string?: unknown } | undefined)?.json ?? (v as { string?: unknown } | undefined)?.string;
  return typeof raw === "string" && raw.includes('"isDone":true');
}

function parseBody(body: unknown): { sessionId?: string } | undefined {
  if (typeof body !== "string") return typeof body === "object" && body ? (body as { sessionId?: string }) : undefined;
  try {
    return JSON.parse(body) as { sessionId?: string };
  } catch {
    return undefined;
  }
}

/** The built runtime and store modules from dist (the very instances the app uses), or why not. */
export function loadModules(root: string): { start: (opts: Record<string, unknown>) => Promise<RuntimeLike>; store: StoreModule } | Unavailable {
  const runtimePath = join(root, "dist", "local-runtime", "host", "runtime.js");
  if (!existsSync(runtimePath)) return { available: false, reason: "local runtime unavailable (dist/local-runtime/host/runtime.js not built)" };
  if (!existsSync(join(root, "dist", "src", "index.js")))
    return { available: false, reason: "local runtime unavailable: the app entry dist/src/index.js does not exist yet" };
  // Loaded only now, from dist: the runtime installs its own @azure/functions-core and loads the app, which the
  // other bench parts must not pay for; and the store module must be the very instance the app uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time, loaded synchronously from dist
  const mod = require(runtimePath) as { startLocalRuntime?: (opts: Record<string, unknown>) => Promise<RuntimeLike> };
  if (typeof mod.startLocalRuntime !== "function") return { available: false, reason: "local runtime unavailable: startLocalRuntime is not exported" };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance the app loaded
  const store = require(join(root, "dist", "src", "store")) as StoreModule;
  return { start: mod.startLocalRuntime, store };
}

export async function startRuntime(
  start: (opts: Record<string, unknown>) => Promise<RuntimeLike>,
  o: EndToEndOptions,
  logs: string[],
): Promise<RuntimeLike | Unavailable> {
  try {
    return await start({
      appDir: o.root,
      port: 0,
      useLocalSettings: false,
      env: {
        // Binding expressions (%PLAYER_REQUESTS_HUB% ...) resolve from the environment: give every default explicitly.
        ...DEFAULTS,
        REDIS_CONNECTION_STRING: o.redisUrl,
        REDIS_KEY_PREFIX: "e2e",
        MATCH_MODES: JSON.stringify({ [MODE]: o.sessionSize }),
        MATCH_REGIONS: JSON.stringify([REGION]),
        MATCH_TIMEOUT_SECONDS: "60",
        TICKET_SIGNING_KEY: "bench-signing-key-0123456789abcdef0123456789",
        SERVER_LEASE_SECONDS: "3600",
        // Every simulated player comes from the bench's one address: the per-address abuse limit is off (the
        // per-player one stays). Set for every runtime of the run: the app reads its settings once per process.
        RATE_LIMIT_TICKETS_PER_ADDRESS: "0",
        ...o.env,
      },
      log: (m: string) => logs.push(m),
    });
  } catch (err) {
    return {
      available: false,
      reason: `local runtime unavailable: startLocalRuntime failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    };
  }
}

/** What the bench sees from inside the app: every invoke, the store's enqueue, match-made publications, Durable calls. */
export class Observations {
  readonly fullAt = new Map<string, number>();
  readonly toldAtByTicket = new Map<string, { at: number; sessionId: string }>();
  readonly invocations = new Map<string, number>();
  readonly durations = new Map<string, number[]>();
  readonly enqueuedAt = new Map<string, number>();
  readonly publishedAt = new Map<string, number>();
  readonly durableCalls = new DurableCallCounter();
  readonly orchestratorNames: Set<string>;
  readonly notes: string[] = [];
  private readonly undo: (() => void)[] = [];

  constructor(
    private readonly runtime: RuntimeLike,
    store: StoreModule,
  ) {
    this.orchestratorNames = new Set(
      [...runtime.core.registrations.entries()].filter(([, r]) => /^orchestrationTrigger$/i.test(r.trigger.type)).map(([n]) => n),
    );
    this.wrapInvoke();
    this.wrapEnqueue(store);
    this.wrapPublish();
    const durable = runtime.durable();
    if (durable) this.undo.push(countDurableCalls(durable, this.durableCalls));
  }

  private wrapInvoke(): void {
    const core = this.runtime.core;
    const original = core.invoke.bind(core);
    core.invoke = async (name: string, req: unknown) => {
      this.invocations.set(name, (this.invocations.get(name) ?? 0) + 1);
      const started = performance.now();
      const res = await original(name, req);
      const d = this.durations.get(name) ?? [];
      d.push(performance.now() - started);
      this.durations.set(name, d);
      // Only a finished episode can say "matched": the others (most of them) are not parsed, so that the bench's
      // observation costs the runtime process it measures as little as possible.
      if (this.orchestratorNames.has(name) && isDoneState((res as { returnValue?: unknown })?.returnValue)) {
        const state = parseTyped((res as { returnValue?: unknown })?.returnValue) as
          { isDone?: boolean; output?: { status?: string; ticketId?: string; sessionId?: string } } | undefined;
        if (state?.isDone && state.output?.status === "matched" && state.output.ticketId) {
          this.toldAtByTicket.set(state.output.ticketId, { at: performance.now(), sessionId: String(state.output.sessionId) });
        }
      }
      return res;
    };
    this.undo.push(() => (core.invoke = original));
  }

  private wrapEnqueue(store: StoreModule): void {
    const proto = store.MatchmakingStore?.prototype;
    const original = proto?.enqueue;
    if (!proto || !original) {
      this.notes.push("MatchmakingStore.prototype.enqueue not found: session-full times not observed");
      return;
    }
    const { enqueuedAt, fullAt } = this;
    proto.enqueue = async function (this: unknown, ...a: unknown[]) {
      const r = await original.apply(this, a);
      const now = performance.now();
      for (const q of (a[0] as { ticketId?: string }[] | undefined) ?? []) if (q.ticketId && !enqueuedAt.has(q.ticketId)) enqueuedAt.set(q.ticketId, now);
      for (const s of r.readySessions ?? []) if (!fullAt.has(s.sessionId)) fullAt.set(s.sessionId, now);
      return r;
    };
    this.undo.push(() => (proto.enqueue = original));
  }

  private wrapPublish(): void {
    const hubs = this.runtime.eventHubs();
    const original = hubs.send.bind(hubs);
    hubs.send = async (hub: string, events: { body: unknown }[]) => {
      await original(hub, events);
      const now = performance.now();
      for (const ev of events) {
        const sid = parseBody(ev.body)?.sessionId;
        if (sid && !this.publishedAt.has(sid)) this.publishedAt.set(sid, now);
      }
    };
    this.undo.push(() => (hubs.send = original));
  }

  /** Forget what setup did: the measurement starts now. */
  reset(): void {
    this.invocations.clear();
    this.durations.clear();
    this.durableCalls.take();
  }

  restore(): void {
    for (const u of this.undo.reverse()) u();
  }
}

/** Game servers `bench-srv-<from>` ... `bench-srv-<from + count - 1>`, 20 registrations in flight. */
export async function registerServers(base: string, fnKey: string, count: number, from = 0): Promise<void> {
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const n = from + i + j;
        const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:7777`;
        const res = await requestJson(`${base}/api/servers/bench-srv-${n}`, "PUT", { address, region: REGION }, { "x-functions-key": fnKey });
        if (res.status < 200 || res.status > 299) throw new Error(`PUT /api/servers answered ${res.status}: ${JSON.stringify(res.json)}`);
      }),
    );
  }
}

interface Poller {
  uri: string;
  token: string;
}

interface CrowdResult {
  requestedAt: Map<string, number>;
  requestToAddress: number[];
  failed: number;
  polls: number;
  failures: string[];
  pollers: Poller[];
}

/** One client: POST a ticket, and (every Nth player) poll it until it says matched. */
async function oneClient(base: string, i: number, crowd: CrowdResult): Promise<void> {
  const playerId = `bench-p${i}`;
  const start = performance.now();
  try {
    const res = await requestJson(`${base}/api/tickets`, "POST", { playerId, mode: MODE, region: REGION });
    const body = (res.json ?? {}) as { ticketId?: string; token?: string; ticketUri?: string };
    if (res.status !== 202 || !body.ticketId || !body.token) throw new Error(`POST /api/tickets answered ${res.status}: ${JSON.stringify(body)}`);
    crowd.requestedAt.set(body.ticketId, start);
    if (i % POLL_EVERY_NTH_PLAYER !== 0) return;
    const poller = { uri: body.ticketUri ? new URL(body.ticketUri, base).toString() : `${base}/api/tickets/${playerId}`, token: body.token };
    crowd.pollers.push(poller);
    const deadline = start + 30_000;
    for (;;) {
      await sleep(POLL_MS);
      crowd.polls++;
      const t = ((await requestJson(poller.uri, "GET", undefined, { authorization: `Bearer ${poller.token}` })).json ?? {}) as {
        status?: string;
        server?: unknown;
      };
      if (t.status === "matched" && t.server) {
        crowd.requestToAddress.push(performance.now() - start);
        return;
      }
      if (t.status && t.status !== "searching") throw new Error(`ticket ended ${t.status}`);
      if (performance.now() > deadline) throw new Error("no match within 30 s");
    }
  } catch (err) {
    crowd.failed++;
    if (crowd.failures.length < 5) crowd.failures.push(err instanceof Error ? err.message : String(err));
  }
}

/** Open loop: player i is requested at t0 + i / rate, whatever happened to the others. */
async function runCrowd(base: string, players: number, ratePerSec: number, progress: (m: string) => void): Promise<CrowdResult> {
  const crowd: CrowdResult = { requestedAt: new Map(), requestToAddress: [], failed: 0, polls: 0, failures: [], pollers: [] };
  const t0 = performance.now();
  const clients: Promise<void>[] = [];
  for (let i = 0; i < players; i++) {
    const wait = t0 + (i * 1000) / ratePerSec - performance.now();
    if (wait > 1) await sleep(wait);
    if (i % 50 === 0) progress(`end to end: ${i}/${players} players requested`);
    clients.push(oneClient(base, i, crowd));
  }
  await Promise.all(clients);
  return crowd;
}

/** Durable calls made by GETs of finished tickets, nothing else running: per poll, by kind. */
async function durableCallsPerPoll(pollers: Poller[], counter: DurableCallCounter): Promise<Record<string, number>> {
  counter.take();
  const sample = pollers.slice(0, 20);
  for (const p of sample) await requestJson(p.uri, "GET", undefined, { authorization: `Bearer ${p.token}` });
  return perPlayer(counter.take(), sample.length);
}

function latencies(obs: Observations, crowd: CrowdResult) {
  const requestToTold: number[] = [];
  const lastToldBySession = new Map<string, number>();
  for (const [ticketId, told] of obs.toldAtByTicket) {
    const req = crowd.requestedAt.get(ticketId);
    if (req !== undefined) requestToTold.push(told.at - req);
    lastToldBySession.set(told.sessionId, Math.max(lastToldBySession.get(told.sessionId) ?? 0, told.at));
  }
  const sessionFullToTold: number[] = [];
  const sessionFullToPublished: number[] = [];
  const publishedToTold: number[] = [];
  for (const [sessionId, last] of lastToldBySession) {
    const full = obs.fullAt.get(sessionId);
    const pub = obs.publishedAt.get(sessionId);
    if (full !== undefined) sessionFullToTold.push(last - full);
    if (full !== undefined && pub !== undefined) sessionFullToPublished.push(pub - full);
    if (pub !== undefined) publishedToTold.push(last - pub);
  }
  const requestToEnqueued: number[] = [];
  for (const [ticketId, at] of obs.enqueuedAt) {
    const req = crowd.requestedAt.get(ticketId);
    if (req !== undefined) requestToEnqueued.push(at - req);
  }
  return {
    requestToAddressMs: crowd.requestToAddress,
    requestToToldMs: requestToTold,
    sessionFullToToldMs: sessionFullToTold,
    requestToEnqueuedMs: requestToEnqueued,
    sessionFullToPublishedMs: sessionFullToPublished,
    publishedToToldMs: publishedToTold,
  };
}

function functionTimes(obs: Observations) {
  return Object.fromEntries(
    [...obs.durations.entries()]
      .sort()
      .map(([n, d]) => [n, { count: d.length, meanMs: d.reduce((x, y) => x + y, 0) / d.length, p95Ms: percentile(d, 95), maxMs: Math.max(...d) }]),
  );
}

type DurableMetrics = ReturnType<DurableLike["metrics"]>;

function durableDelta(before: DurableMetrics | undefined, after: DurableMetrics | undefined) {
  if (!before || !after) return undefined;
  return {
    orchestratorEpisodes: after.orchestratorEpisodes - before.orchestratorEpisodes,
    activityInvocations: after.activityInvocations - before.activityInvocations,
    instances: after.instances - before.instances,
  };
}

/** Durable calls by kind during the crowd: the runtime's own count when it keeps one, else the bench's. */
function durableCallsOf(before: DurableMetrics | undefined, after: DurableMetrics | undefined, counted: Record<string, number>) {
  if (before?.callsByKind && after?.callsByKind) {
    const kinds = new Set([...Object.keys(before.callsByKind), ...Object.keys(after.callsByKind)]);
    const calls = Object.fromEntries([...kinds].sort().map((k) => [k, (after.callsByKind![k] ?? 0) - (before.callsByKind![k] ?? 0)]));
    return { calls, source: "the local runtime's Durable call counters (metrics().callsByKind)" };
  }
  return { calls: counted, source: "counted by the bench on the local runtime's Durable HTTP endpoint (every durable-functions client call)" };
}

export async function runEndToEnd(o: EndToEndOptions): Promise<EndToEndResult> {
  const modules = loadModules(o.root);
  if ("available" in modules) return modules;
  const players = Math.max(o.sessionSize, Math.floor(o.players / o.sessionSize) * o.sessionSize);
  const logs: string[] = [];
  const runtime = await startRuntime(modules.start, o, logs);
  if ("available" in runtime) return runtime;
  const obs = new Observations(runtime, modules.store);
  const notes = obs.notes;
  try {
    // Game servers for every session (plus a few), registered before the clock starts.
    await registerServers(runtime.baseUrl, runtime.keys.functionKeys[0] ?? "", players / o.sessionSize + 5);
    const durableBefore = runtime.durable()?.metrics();
    obs.reset();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const crowd = await runCrowd(runtime.baseUrl, players, o.ratePerSec, o.progress);
    // Orchestrators are told by matchMade; give the last events time to land.
    await runtime.drainEvents(10_000);
    const settleDeadline = performance.now() + 5_000;
    while (obs.toldAtByTicket.size < crowd.requestedAt.size && performance.now() < settleDeadline) await sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const durableAfter = runtime.durable()?.metrics();
    const durable = durableCallsOf(durableBefore, durableAfter, obs.durableCalls.take());
    const perPoll = await durableCallsPerPoll(crowd.pollers, obs.durableCalls);
    if (crowd.failures.length) notes.push(`failures (first ${crowd.failures.length}): ${crowd.failures.join(" | ")}`);
    if (crowd.failures.length || obs.toldAtByTicket.size < players) {
      const errs = logs.filter((l) => /error|fail|exception/i.test(l)).slice(-5);
      if (errs.length) notes.push(`runtime log (last errors): ${errs.map((l) => l.slice(0, 300)).join(" | ")}`);
    }
    const matched = obs.toldAtByTicket.size;
    const per = (n: number): number => (matched ? n / matched : NaN);
    const episodes = [...obs.invocations.entries()].filter(([n]) => obs.orchestratorNames.has(n)).reduce((a, [, c]) => a + c, 0);
    // The crowd's own ticket polls are Durable calls too when a poll reads Durable: take them out of the per-player figure.
    const pollShare = Object.fromEntries(Object.entries(durable.calls).map(([k, v]) => [k, Math.max(0, v - (perPoll[k] ?? 0) * crowd.polls)]));
    return {
      available: true,
      players,
      sessionSize: o.sessionSize,
      matched,
      failed: crowd.failed,
      seconds,
      ...latencies(obs, crowd),
      functionTimes: functionTimes(obs),
      orchestratorEpisodesPerMatched: per(episodes),
      durableMetrics: durableDelta(durableBefore, durableAfter),
      invocationsPerMatched: Object.fromEntries([...obs.invocations.entries()].sort().map(([n, c]) => [n, per(c)])),
      totalInvocationsPerMatched: per([...obs.invocations.values()].reduce((a, b) => a + b, 0)),
      durableCallsPerMatched: perPlayer(pollShare, matched),
      durableCallsPerTicketPoll: perPoll,
      durableCallsSource: durable.source,
      pollsPerPlayer: crowd.polls / Math.max(1, Math.ceil(players / POLL_EVERY_NTH_PLAYER)),
      ratePerSec: o.ratePerSec,
      processCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
      notes,
    };
  } finally {
    obs.restore();
    await runtime.stop().catch((err: unknown) => notes.push(`runtime.stop failed: ${String(err)}`));
  }
}
