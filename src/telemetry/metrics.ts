/**
 * The matchmaker's metrics, recorded through the OpenTelemetry API meter `matchmaker`. What is exported
 * (Application Insights, OTLP, the local runtime's Prometheus page, nothing) is decided by setup.ts.
 *
 * Names and attributes (a contract for dashboards, alerts and the README's queries):
 * | metric                                  | kind      | unit | attributes            |
 * | matchmaker.tickets.created              | counter   |      | mode, region          |
 * | matchmaker.tickets.matched              | counter   |      | mode, region          |
 * | matchmaker.tickets.timed_out            | counter   |      | mode, region          |
 * | matchmaker.tickets.cancelled            | counter   |      | mode, region          |
 * | matchmaker.dead_letters                 | counter   |      | source, reason        |
 * | matchmaker.announce.failed              | counter   |      | region (sessions whose match-made send failed; the outbox re-sends) |
 * | matchmaker.time_to_match                | histogram | s    | mode, region          |
 * | matchmaker.match.skill_spread           | histogram |      | mode, region (when the mode has skill rules) |
 * | matchmaker.durable.calls                | counter   |      | operation             |
 * | matchmaker.redis.script.duration        | histogram | ms   | script                |
 * | matchmaker.players.waiting              | gauge     |      | mode, region (+ pool=latency: a zone's latency pool, on its first region) |
 * | matchmaker.players.oldest_wait          | gauge     | s    | region (+ pool=latency, as above) |
 * | matchmaker.sessions.open                | gauge     |      | region                |
 * | matchmaker.sessions.ready               | gauge     |      | region                |
 * | matchmaker.sessions.waiting_for_server  | gauge     |      | region (the scale-out signal) |
 * | matchmaker.servers                      | gauge     |      | region, state (free, claimed, busy) |
 *
 * Instruments are made from the CURRENT global meter provider and remade if it changes: the API has no
 * proxy meter, and the provider is registered by whoever starts first (the app, the local runtime, a test).
 */
import { metrics, type Counter, type Histogram, type Meter, type MeterProvider, type ObservableGauge } from "@opentelemetry/api";

export const METER_NAME = "matchmaker";

/** The region figures the gauges show; the store's RegionStats has this shape. */
export interface StatsSnapshot {
  region: string;
  waitingByMode: Record<string, number>;
  sessionsOpen: number;
  sessionsReady: number;
  serversAvailable: number;
  serversAllocated: number;
  serversClaimed?: number;
  oldestWaitMs: number;
  /** The slot's latency pool, on its first region (issue 14): tickets in no region yet. */
  latencyPool?: { waitingByMode: Record<string, number>; oldestWaitMs: number };
}

export type TicketOutcome = "matched" | "timedOut" | "cancelled";

const TIME_TO_MATCH_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];
const SCRIPT_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100];
const SKILL_SPREAD_BUCKETS = [0, 10, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000];

interface Instruments {
  provider: MeterProvider;
  created: Counter;
  outcomes: Record<TicketOutcome, Counter>;
  deadLetters: Counter;
  announceFailed: Counter;
  timeToMatch: Histogram;
  skillSpread: Histogram;
  durableCalls: Counter;
  scriptDuration: Histogram;
  gauges: ObservableGauge[];
}

let statsSource: (() => Promise<StatsSnapshot[]>) | undefined;
let current: Instruments | undefined;

function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (current?.provider === provider) return current;
  const meter = provider.getMeter(METER_NAME);
  current = {
    provider,
    created: meter.createCounter("matchmaker.tickets.created", { description: "Tickets accepted by POST /api/tickets" }),
    outcomes: {
      matched: meter.createCounter("matchmaker.tickets.matched", { description: "Tickets that got a server" }),
      timedOut: meter.createCounter("matchmaker.tickets.timed_out", { description: "Tickets that reached their deadline unmatched" }),
      cancelled: meter.createCounter("matchmaker.tickets.cancelled", { description: "Tickets cancelled by their player" }),
    },
    deadLetters: meter.createCounter("matchmaker.dead_letters", { description: "Messages dead-lettered, by source hub and reason" }),
    announceFailed: meter.createCounter("matchmaker.announce.failed", {
      description: "Sessions whose match-made send failed (they stay in the outbox; the sweeper re-sends them)",
    }),
    timeToMatch: meter.createHistogram("matchmaker.time_to_match", {
      description: "Seconds from a ticket's request to its match",
      unit: "s",
      advice: { explicitBucketBoundaries: TIME_TO_MATCH_BUCKETS_S },
    }),
    skillSpread: meter.createHistogram("matchmaker.match.skill_spread", {
      description: "max(skill) - min(skill) of a newly assigned session",
      advice: { explicitBucketBoundaries: SKILL_SPREAD_BUCKETS },
    }),
    durableCalls: meter.createCounter("matchmaker.durable.calls", { description: "Durable client calls (startNew, getStatus, raiseEvent)" }),
    scriptDuration: meter.createHistogram("matchmaker.redis.script.duration", {
      description: "Duration of one store Lua script call, as the client sees it",
      unit: "ms",
      advice: { explicitBucketBoundaries: SCRIPT_BUCKETS_MS },
    }),
    gauges: [],
  };
  registerGauges(meter, current);
  return current;
}

/** Observable gauges read the store's stats only when a reader collects (never when telemetry is off). */
function registerGauges(meter: Meter, into: Instruments): void {
  const waiting = meter.createObservableGauge("matchmaker.players.waiting", { description: "Players waiting, by mode and region" });
  const oldest = meter.createObservableGauge("matchmaker.players.oldest_wait", { description: "Wait of the longest-waiting player", unit: "s" });
  const open = meter.createObservableGauge("matchmaker.sessions.open", { description: "Sessions collecting players" });
  const ready = meter.createObservableGauge("matchmaker.sessions.ready", { description: "Full sessions not yet given a server" });
  const waitingForServer = meter.createObservableGauge("matchmaker.sessions.waiting_for_server", {
    description: "Full sessions waiting because no server is free: the scale-out signal",
  });
  const servers = meter.createObservableGauge("matchmaker.servers", { description: "Game servers by state (free, claimed, busy)" });
  into.gauges.push(waiting, oldest, open, ready, waitingForServer, servers);
  meter.addBatchObservableCallback(
    async (result) => {
      const read = statsSource;
      if (!read) return;
      let all: StatsSnapshot[];
      try {
        all = await read();
      } catch {
        return; // Redis down: no gauge points this round rather than a failed export
      }
      for (const s of all) {
        const region = { region: s.region };
        for (const [mode, n] of Object.entries(s.waitingByMode)) result.observe(waiting, n, { mode, region: s.region });
        result.observe(oldest, s.oldestWaitMs / 1000, region);
        if (s.latencyPool) {
          const pool = { ...region, pool: "latency" };
          for (const [mode, n] of Object.entries(s.latencyPool.waitingByMode)) result.observe(waiting, n, { ...pool, mode });
          result.observe(oldest, s.latencyPool.oldestWaitMs / 1000, pool);
        }
        result.observe(open, s.sessionsOpen, region);
        result.observe(ready, s.sessionsReady, region);
        // Ready sessions are assigned the moment a server is free; those still ready with none free wait for one.
        result.observe(waitingForServer, s.serversAvailable > 0 ? 0 : s.sessionsReady, region);
        const claimed = s.serversClaimed ?? 0;
        result.observe(servers, s.serversAvailable, { ...region, state: "free" });
        result.observe(servers, claimed, { ...region, state: "claimed" });
        result.observe(servers, Math.max(0, s.serversAllocated - claimed), { ...region, state: "busy" });
      }
    },
    [waiting, oldest, open, ready, waitingForServer, servers],
  );
}

/** Where the gauges read the queue and pool figures (the app wires the store's stats, per region). */
export function setStatsSource(read: (() => Promise<StatsSnapshot[]>) | undefined): void {
  statsSource = read;
  instruments(); // the gauges exist from now on, not only after the first recorded point
}

export function recordTicketCreated(mode: string, region: string): void {
  instruments().created.add(1, { mode, region });
}

/** A ticket's final outcome; `waitSeconds` (request to match) feeds the time-to-match histogram. */
export function recordTicketOutcome(outcome: TicketOutcome, mode: string, region: string, waitSeconds?: number): void {
  const i = instruments();
  i.outcomes[outcome].add(1, { mode, region });
  if (outcome === "matched" && waitSeconds !== undefined && Number.isFinite(waitSeconds)) i.timeToMatch.record(Math.max(0, waitSeconds), { mode, region });
}

export function recordDeadLetters(source: string, reasons: readonly string[]): void {
  const c = instruments().deadLetters;
  for (const reason of reasons) c.add(1, { source, reason });
}

/** Sessions whose match-made send failed in `region` (announce keeps them in the outbox). */
export function recordAnnounceFailed(region: string, sessions: number): void {
  instruments().announceFailed.add(sessions, { region });
}

/**
 * The quality of a match beyond its wait (the wait is matchmaker.time_to_match): the skill spread, when
 * the mode has skill rules and the outcome reports it.
 */
export function recordMatchQuality(mode: string, region: string, quality: { skillSpread?: number }): void {
  if (quality.skillSpread !== undefined && Number.isFinite(quality.skillSpread)) instruments().skillSpread.record(quality.skillSpread, { mode, region });
}

export function recordDurableCall(operation: "startNew" | "getStatus" | "raiseEvent" | "terminate" | "purge", n = 1): void {
  instruments().durableCalls.add(n, { operation });
}

/** The store's script hook: one point per Lua script call. */
export function recordScriptDuration(script: string, durationMs: number): void {
  instruments().scriptDuration.record(durationMs, { script });
}
