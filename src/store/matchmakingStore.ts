/**
 * The matchmaking store: typed, validating wrappers around the Lua scripts of src/store/lua.
 *
 * Each method is one script call per region (batches are grouped by region), i.e. one atomic Redis step
 * and one round trip. Validation happens here, per entry: a bad entry of a batch is answered
 * `{outcome: "rejected", error, detail}` and the others proceed. Calls that take a single entity and have
 * no "rejected" outcome throw StoreInputError (with the same {error, detail}) on bad input.
 * A failing Redis makes the call throw: nothing is silently dropped, the caller retries the whole batch,
 * and because every script is idempotent a retry of an already-applied batch changes nothing.
 */
import type { LeaveReason, PartyMember } from "../domain/types";
import { normalizeModes, type ModeRules, type ModeSpec } from "../domain/modeRules";
import {
  fail,
  ID_PATTERN,
  ok,
  validateFields,
  validateId,
  validateMode,
  validateRegion,
  validateTicketFields,
  validateTicketLatencies,
  type Validated,
} from "../domain/validation";
import type { RedisConnection } from "./connection";
import { deadLetterKey, rateLimitKey, regionPrefix, routingKey } from "./keys";
import { percentileOfSorted } from "../lib/percentile";
import { loadScripts } from "./scriptLoader";
import { ServerPool } from "./serverPool";
import { toAssignment } from "./assignments";
import { BackfillDesk } from "./backfills";
import { LatencyPool, skillText } from "./latencyPool";
import { scriptInputError, StoreInputError } from "./storeInputError";
import { SCRIPT_REPLIES, type ScriptName, type ScriptReply } from "./replies";
import { decodeReply, ScriptReplyError, type Decoder } from "./replyDecoder";
import type {
  AckResult,
  AssignResult,
  Assignment,
  BackfillCancelResult,
  BackfillFillResult,
  BackfillJoin,
  BackfillRequest,
  BackfillRequestResult,
  DeregisterResult,
  EnqueueBatchResult,
  EnqueueRequest,
  EnqueueResult,
  ExpireServersResult,
  ExpireStaleResult,
  LeaveRequest,
  LeaveResult,
  PlayerState,
  PlayerView,
  RateLimitResult,
  ModeStats,
  LatencyPoolStats,
  RegionStats,
  RegisterResult,
  RegroupResult,
  ReleaseResult,
  ServerAllocation,
  ServerRecord,
  SessionRef,
} from "./types";

/** What a rate limit may count: a kind and an id that cannot break out of the key's hash tag. */
const RATE_LIMIT_SUBJECT = /^(player|address):[A-Za-z0-9_.:-]{1,64}$/;

export interface MatchmakingStoreOptions {
  /** Key prefix (REDIS_KEY_PREFIX), e.g. "mm". */
  prefix: string;
  /**
   * mode -> session size (FIFO, solo tickets), or the mode's rules (DESIGN.md section 6: teams x teamSize,
   * maxPartySize, skill window with widen steps; a ModeSpec as MATCH_MODES spells it, or normalized ModeRules).
   */
  modes: Readonly<Record<string, number | ModeSpec | ModeRules>>;
  serverLeaseSeconds: number;
  /** How long finished tickets and redelivery guards are kept. */
  ticketRetentionSeconds: number;
  /** When given, regions outside this list are refused ("unknown_region"); otherwise any well-formed region is accepted. */
  regions?: readonly string[];
  /**
   * region -> zone (MATCH_REGIONS zones, issue 14): a zone's regions share one hash slot, and tickets of a
   * latency mode are placed across them (lua/placeLatency.lua). A region in no zone keeps its own slot.
   */
  zones?: Readonly<Record<string, string>>;
  /** A server claimed for a session must confirm it (heartbeat or ack) within this window. Default 60. */
  serverClaimSeconds?: number;
  /** Epoch ms; tests move it instead of sleeping. */
  clock?: () => number;
  /** Told the duration of every script call, failed ones included (the app's telemetry histogram). */
  onScript?: (script: ScriptName, durationMs: number) => void;
}

export { StoreInputError };

const LEAVE_REASONS: readonly LeaveReason[] = ["timedOut", "cancelled", "expired"];
const PLAYER_STATES: readonly PlayerState[] = ["waiting", "matched", "left"];
/** `<region>.<sequence>` as created by enqueuePlayers.lua. */
const SESSION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}\.[0-9]{1,15}$/;
/** Requests stamped further in the future than this are refused (a broken client clock would sort first forever). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const DEFAULT_BATCH_LIMIT = 1000;
const DEFAULT_CLAIM_SECONDS = 60;
/**
 * Work caps per script call, so that no call blocks Redis for long at any pool size (measured on 2 shared
 * cores: about 9 us per assigned player, 15 us per expired player; see test/store/scriptTime.test.ts,
 * which checks that no call takes over 10 ms with 100k players). The store loops until the work is done.
 */
export const STORE_CALL_LIMITS = {
  assignPlayers: 100,
  assignSessions: 100,
  /**
   * Players per expireStale call. Expiring a player writes more than any other per-player step (record,
   * indexes, its session, skill bands): at 100 the longest call reached 5-6 ms idle and 12.8 ms on a loaded
   * 2-core CI machine (over the 10 ms bound); 50 keeps it near 3 ms idle. A mass expiry is rare (lost
   * orchestrators), so the extra calls cost little.
   */
  expirePlayers: 50,
  claimSessions: 20,
  confirmSessions: 500,
  /** Requests per enqueue script call; a larger batch goes in consecutive calls, in order. */
  requests: 100,
  /** Requests per leave script call (a party's leave takes all its members out). */
  leaves: 25,
  /**
   * Players per enqueue script call, a FIFO player counting 1 and a player of a rules mode (skill, teams,
   * parties: each unit looks at several candidate sessions) RULES_PLAYER_COST.
   */
  enqueuePlayers: 100,
  statsModes: 200,
  /** Rules modes per stats call (each reads up to 1000 recent match qualities). */
  statsRulesModes: 5,
  /** Open sessions a regroup call examines, and players it may move. */
  regroupSessions: 10,
  regroupPlayers: 100,
  /** Open sessions one regroup() examines per mode (it goes on from there the next time). */
  regroupSessionsPerSweep: 200,
} as const;
const ASSIGN_PLAYERS_PER_CALL = STORE_CALL_LIMITS.assignPlayers;
const MAX_SESSIONS_PER_CALL = STORE_CALL_LIMITS.assignSessions;
const EXPIRE_PLAYERS_PER_CALL = STORE_CALL_LIMITS.expirePlayers;
const CLAIM_PER_CALL = STORE_CALL_LIMITS.claimSessions;
const CONFIRM_PER_CALL = STORE_CALL_LIMITS.confirmSessions;
const REQUESTS_PER_CALL = STORE_CALL_LIMITS.requests;
const ENQUEUE_COST_PER_CALL = STORE_CALL_LIMITS.enqueuePlayers;
const LEAVES_PER_CALL = STORE_CALL_LIMITS.leaves;
const MODES_PER_STATS_CALL = STORE_CALL_LIMITS.statsModes;
const UNLIMITED = Number.MAX_SAFE_INTEGER;
/**
 * A rules-mode player counts this many FIFO players of an enqueue call's budget (test/store/scriptTime.test.ts).
 * It costs about 4, but at 4 the longest call of a 100k-player 5v5 pool reached 10.4 ms in a full CI run (other
 * test files loading the 2 cores); at 6 there is room for that load under the 10 ms bound.
 */
const RULES_PLAYER_COST = 6;
const REGROUP_TARGETS_PER_CALL = STORE_CALL_LIMITS.regroupSessions;
const REGROUP_PLAYERS_PER_CALL = STORE_CALL_LIMITS.regroupPlayers;
const REGROUP_SESSIONS_PER_SWEEP = STORE_CALL_LIMITS.regroupSessionsPerSweep;
const RULES_MODES_PER_STATS_CALL = STORE_CALL_LIMITS.statsRulesModes;
const DEAD_LETTER_MAXLEN = "10000";

/** The ids of a rejected batch entry, as far as it has them (it may be no object at all). */
function idsOf(entry: unknown): { ticketId: string; playerId: string } {
  const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
  return { ticketId: typeof e.ticketId === "string" ? e.ticketId : "", playerId: typeof e.playerId === "string" ? e.playerId : "" };
}

/** Skills the store takes: finite, and small enough that differences and sums stay exact in Lua's doubles. */
const MAX_SKILL = 1e9;
function validSkill(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= MAX_SKILL;
}

/** A mode's rules as the matching scripts take them (lua/includes/mode_rules.lua). */
interface LuaModeRules {
  size: number;
  teams: number;
  teamSize: number;
  maxPartySize: number;
  skill?: { window: number; widen: { afterSeconds: number; window: number }[] };
}
function luaMode(r: ModeRules): number | LuaModeRules {
  if (!r.skill && r.teams === 1 && r.maxPartySize === 1) return r.size;
  return {
    size: r.size,
    teams: r.teams,
    teamSize: r.teamSize,
    maxPartySize: r.maxPartySize,
    ...(r.skill ? { skill: { window: r.skill.window, widen: r.skill.widen.map((w) => ({ afterSeconds: w.afterSeconds, window: w.window })) } } : {}),
  };
}

/** Upper bounds (ms) of the time-to-match histogram of stats(); a last bucket counts the samples above. */
export const TIME_TO_MATCH_BOUNDS_MS = [500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000];

/** Counts of sorted samples per bucket: counts[i] for samples <= bounds[i] (and > bounds[i-1]); the last for samples above every bound. */
function histogramOf(sorted: readonly number[], bounds: readonly number[]): { boundsMs: number[]; counts: number[] } {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let b = 0;
  for (const v of sorted) {
    while (b < bounds.length && v > bounds[b]!) b++;
    counts[b]!++;
  }
  return { boundsMs: [...bounds], counts };
}

export class MatchmakingStore {
  private readonly scripts = loadScripts();
  private readonly clock: () => number;
  readonly prefix: string;
  /** mode -> session size (players per session). */
  readonly modes: Readonly<Record<string, number>>;
  /** mode -> its normalized rules. */
  readonly rules: Readonly<Record<string, ModeRules>>;
  private readonly modeNames: readonly string[];
  /** The rules as the matching scripts take them: a number for a plain FIFO mode, else the rules object. */
  private readonly luaModes: Record<string, number | LuaModeRules>;
  /** Modes with skill, teams or parties: the ones regroup sweeps and stats report per mode. */
  private readonly rulesModeNames: readonly string[];
  /** `<region>/<mode>` -> the seq after which the next regroup() goes on (0: from the oldest). */
  private readonly regroupCursor = new Map<string, number>();
  /** Game servers: register/heartbeat, ack, release, deregister, expiry, reads (src/store/serverPool.ts). */
  readonly servers: ServerPool;
  /** Backfill of running games (src/store/backfills.ts). */
  private readonly backfills: BackfillDesk;
  /** Tickets of latency modes: the latency pool of each hash slot (src/store/latencyPool.ts, issue 14). */
  private readonly latency: LatencyPool;

  constructor(
    readonly redis: RedisConnection,
    private readonly opts: MatchmakingStoreOptions,
  ) {
    if (!ID_PATTERN.test(opts.prefix) || opts.prefix.length > 32) throw new Error(`invalid key prefix ${JSON.stringify(opts.prefix)}`);
    this.prefix = opts.prefix;
    this.rules = normalizeModes(opts.modes);
    this.modes = Object.fromEntries(Object.entries(this.rules).map(([m, r]) => [m, r.size]));
    this.modeNames = Object.keys(this.modes);
    this.luaModes = Object.fromEntries(Object.entries(this.rules).map(([m, r]) => [m, luaMode(r)]));
    this.rulesModeNames = this.modeNames.filter((m) => typeof this.luaModes[m] !== "number");
    this.clock = opts.clock ?? Date.now;
    this.servers = new ServerPool(redis, {
      prefix: opts.prefix,
      serverLeaseSeconds: opts.serverLeaseSeconds,
      serverClaimSeconds: opts.serverClaimSeconds ?? DEFAULT_CLAIM_SECONDS,
      clock: this.clock,
      ...(opts.regions ? { regions: opts.regions } : {}),
      ...(opts.zones ? { zones: opts.zones } : {}),
    });
    this.backfills = new BackfillDesk({
      retentionMs: this.retentionMs,
      luaModes: this.luaModes,
      run: (name, region, args) => this.run(name, region, args),
      locate: (serverId) => this.servers.locate(serverId),
      latencyPool: (region) => this.latency.backfillPool(region),
      ...(opts.regions ? { regions: opts.regions } : {}),
    });
    this.latency = new LatencyPool(redis, (name, key, prefixArg, payload, plain) => this.call(name, key, prefixArg, payload, plain), {
      prefix: opts.prefix,
      ...(opts.regions ? { regions: opts.regions } : {}),
      zones: opts.zones ?? {},
      rules: this.rules,
      retentionMs: opts.ticketRetentionSeconds * 1000,
      now: () => this.now(),
    });
  }

  private now(): number {
    return Math.floor(this.clock());
  }

  /** The regions served (undefined: any well-formed region) and their zones. */
  private get layout(): { regions?: readonly string[]; zones: Readonly<Record<string, string>> } {
    return { ...(this.opts.regions ? { regions: this.opts.regions } : {}), zones: this.opts.zones ?? {} };
  }

  /** Closes the Redis connection this store owns. */
  async close(): Promise<void> {
    await this.redis.close();
  }

  private get retentionMs(): number {
    return this.opts.ticketRetentionSeconds * 1000;
  }

  /**
   * Runs one script for one region; `args` is merged into {now, region} (ARGV[2], JSON). `plain` values
   * follow as ARGV[3..] (per-item fields of the hot scripts: no JSON to decode per item in Redis).
   */
  private run<N extends ScriptName>(name: N, region: string, args: Record<string, unknown> = {}, plain: string[] = []): Promise<ScriptReply<N>> {
    const payload = JSON.stringify({ now: this.now(), region, ...args });
    return this.call(name, routingKey(this.prefix, region, this.opts.zones), regionPrefix(this.prefix, region, this.opts.zones), payload, plain);
  }

  /** Runs one script on the slot of `key` with ARGV[1] `prefixArg`, ARGV[2] `payload` and ARGV[3..] `plain`. */
  private async call<N extends ScriptName>(name: N, key: string, prefixArg: string, payload: string, plain: string[] = []): Promise<ScriptReply<N>> {
    const script = this.scripts[name];
    let raw: unknown;
    const started = performance.now();
    try {
      raw = await this.redis.runScript(key, script.sha, script.body, [key], [prefixArg, payload, ...plain]);
    } catch (err) {
      throw scriptInputError(err) ?? err;
    } finally {
      this.opts.onScript?.(name, performance.now() - started);
    }
    return decodeReply(name, SCRIPT_REPLIES[name] as Decoder<ScriptReply<N>>, raw);
  }

  // ---------------------------------------------------------------- validation

  private regionOrThrow(value: unknown): string {
    const r = validateRegion(value, this.opts.regions);
    if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    return r.value;
  }

  /** A work limit given by the caller: a positive integer. */
  private limit(value: unknown, fallback = DEFAULT_BATCH_LIMIT): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new StoreInputError("invalid_max", "max must be a positive integer");
    return value;
  }

  private nonNegative(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
      throw new StoreInputError(`invalid_${field}`, `${field} must be a non-negative integer (ms)`);
    return value;
  }

  private idOrThrow(field: string, value: unknown): string {
    const r = validateId(field, value);
    if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    return r.value;
  }

  private validateEnqueue(entry: unknown, now: number): Validated<EnqueueRequest> {
    const fields = validateFields(
      entry,
      ["ticketId", "playerId", "mode", "region", "requestedAtMs", "skill", "party", "latencies"],
      "a player request must be an object",
    );
    if (!fields.ok) return fields;
    const e = fields.value;
    const ticket = validateTicketFields(e, { modes: this.modes, regions: this.opts.regions });
    if (!ticket.ok) return ticket;
    const at = e.requestedAtMs;
    if (typeof at !== "number" || !Number.isSafeInteger(at) || at <= 0) {
      return fail("invalid_requestedAt", "requestedAtMs must be a positive integer (epoch milliseconds)");
    }
    if (at > now + MAX_CLOCK_SKEW_MS) {
      return fail(
        "invalid_requestedAt",
        `requestedAt is ${Math.round((at - now) / 1000)} s in the future; clocks may differ by at most ${MAX_CLOCK_SKEW_MS / 1000} s`,
      );
    }
    const unit = this.validateUnit(ticket.value.playerId, this.rules[ticket.value.mode]!, e.skill, e.party);
    if (!unit.ok) return unit;
    const latencies = validateTicketLatencies(e.latencies, ticket.value.region, this.rules[ticket.value.mode]!, this.layout);
    if (!latencies.ok) return latencies;
    return ok({ ...ticket.value, requestedAtMs: at, ...unit.value, ...latencies.value });
  }

  /**
   * A request's skill and party under its mode's rules; every refusal here needs no state, so it comes
   * before the script (which checks the same again, and `party_member_live` itself).
   */
  private validateUnit(leader: string, rule: ModeRules, skill: unknown, party: unknown): Validated<{ skill?: number; party?: PartyMember[] }> {
    if (skill !== undefined && !validSkill(skill)) return fail("invalid_skill", `skill must be a finite number in [-${MAX_SKILL}, ${MAX_SKILL}]`);
    const members: PartyMember[] = [];
    if (party !== undefined) {
      if (!Array.isArray(party)) return fail("invalid_party", "party must be an array of {playerId, skill?}");
      if (party.length + 1 > rule.maxPartySize)
        return fail("party_too_large", `a party of ${party.length + 1} is larger than the mode allows (${rule.maxPartySize})`);
      const seen = new Set([leader]);
      for (const m of party as unknown[]) {
        const f = validateFields(m, ["playerId", "skill"], "a party member must be an object {playerId, skill?}");
        if (!f.ok) return fail("invalid_party", f.error.detail);
        const id = validateId("playerId", f.value.playerId);
        if (!id.ok) return fail("invalid_party", `party: ${id.error.detail}`);
        if (seen.has(id.value)) return fail("party_duplicate_member", `player ${id.value} is listed twice in the party (the leader counts)`);
        seen.add(id.value);
        const s = f.value.skill;
        if (s !== undefined && !validSkill(s))
          return fail("invalid_skill", `party member ${id.value}: skill must be a finite number in [-${MAX_SKILL}, ${MAX_SKILL}]`);
        members.push(s === undefined ? { playerId: id.value } : { playerId: id.value, skill: s });
      }
    }
    if (rule.skill) {
      const missing = skill === undefined ? leader : members.find((m) => m.skill === undefined)?.playerId;
      if (missing !== undefined) return fail("skill_required", `this mode matches by skill: player ${missing} has no skill`);
    }
    return ok({ ...(skill !== undefined ? { skill: skill as number } : {}), ...(members.length ? { party: members } : {}) });
  }

  private validateLeave(entry: unknown): Validated<LeaveRequest> {
    const fields = validateFields(entry, ["playerId", "ticketId", "region", "reason", "mode", "requestedAtMs"], "a leave request must be an object");
    if (!fields.ok) return fields;
    const e = fields.value;
    const playerId = validateId("playerId", e.playerId);
    if (!playerId.ok) return playerId;
    const ticketId = validateId("ticketId", e.ticketId);
    if (!ticketId.ok) return ticketId;
    const region = validateRegion(e.region, this.opts.regions);
    if (!region.ok) return region;
    if (typeof e.reason !== "string" || !(LEAVE_REASONS as readonly string[]).includes(e.reason)) {
      return fail("invalid_reason", `reason must be one of: ${LEAVE_REASONS.join(", ")}`);
    }
    let mode: string | undefined;
    if (e.mode !== undefined) {
      const m = validateMode(e.mode, this.modes);
      if (!m.ok) return m;
      mode = m.value;
    }
    const at = e.requestedAtMs;
    if (at !== undefined && (typeof at !== "number" || !Number.isSafeInteger(at) || at <= 0)) {
      return fail("invalid_requestedAt", "requestedAtMs must be a positive integer (epoch milliseconds)");
    }
    return ok({
      playerId: playerId.value,
      ticketId: ticketId.value,
      region: region.value,
      reason: e.reason as LeaveReason,
      ...(mode ? { mode } : {}),
      ...(at !== undefined ? { requestedAtMs: at } : {}),
    });
  }

  private static batchOrThrow(requests: unknown): void {
    if (!Array.isArray(requests)) throw new StoreInputError("invalid_batch", "a batch must be an array of requests");
  }

  /** Groups validated entries by region, keeping each entry's index in the input. */
  private static byRegion<T extends { region: string }>(entries: { index: number; value: T }[]): Map<string, { index: number; value: T }[]> {
    const groups = new Map<string, { index: number; value: T }[]>();
    for (const e of entries) {
      const g = groups.get(e.value.region);
      if (g) g.push(e);
      else groups.set(e.value.region, [e]);
    }
    return groups;
  }

  // ---------------------------------------------------------------- players

  /** Queues a batch of player requests: one script call per region. Results are in input order. */
  async enqueue(requests: EnqueueRequest[]): Promise<EnqueueBatchResult> {
    MatchmakingStore.batchOrThrow(requests);
    const now = this.now();
    const results: EnqueueResult[] = new Array(requests.length);
    const valid: { index: number; value: EnqueueRequest }[] = [];
    requests.forEach((entry, index) => {
      const v = this.validateEnqueue(entry, now);
      if (v.ok) valid.push({ index, value: v.value });
      else results[index] = { outcome: "rejected", ...idsOf(entry), ...v.error };
    });
    const readySessions: SessionRef[] = [];
    const backfillRegions = new Set<string>();
    // Tickets of latency modes wait in their slot's latency pool until a group is placed (issue 14).
    const pooled = valid.filter((e) => this.latency.isLatencyMode(e.value.mode));
    for (const e of pooled) backfillRegions.add(e.value.region);
    const pooling = pooled.length ? this.latency.enqueue(pooled, results) : Promise.resolve([]);
    const regional = pooled.length ? valid.filter((e) => !this.latency.isLatencyMode(e.value.mode)) : valid;
    await Promise.all(
      [...MatchmakingStore.byRegion(regional)].map(async ([region, group]) => {
        // Consecutive calls of at most REQUESTS_PER_CALL requests and PLAYERS_PER_ENQUEUE_CALL players (a party
        // counts its members), in order: the same outcome as one call (and as one by one).
        for (let i = 0; i < group.length;) {
          let end = i;
          let cost = 0;
          while (end < group.length && end - i < REQUESTS_PER_CALL) {
            cost += this.enqueueCost(group[end]!.value);
            if (end > i && cost > ENQUEUE_COST_PER_CALL) break;
            end++;
          }
          const chunk = group.slice(i, end);
          i = end;
          const out = await this.enqueueCall(region, chunk);
          chunk.forEach(({ index }, k) => (results[index] = out.results[k]!));
          for (const sessionId of out.ready) readySessions.push({ region, sessionId });
          if (out.backfills > 0) backfillRegions.add(region);
        }
      }),
    );
    readySessions.push(...(await pooling));
    return { results, readySessions, backfillRegions: [...backfillRegions] };
  }

  /** What a request costs of an enqueue call's budget (ENQUEUE_COST_PER_CALL). */
  private enqueueCost(r: EnqueueRequest): number {
    const players = 1 + (r.party?.length ?? 0);
    return typeof this.luaModes[r.mode] === "number" ? players : players * RULES_PLAYER_COST;
  }

  /** One enqueuePlayers call: one result per request, in order. */
  private async enqueueCall(region: string, group: { value: EnqueueRequest }[]): Promise<{ results: EnqueueResult[]; ready: string[]; backfills: number }> {
    const plain: string[] = [];
    for (const { value: r } of group) {
      const party = r.party ?? [];
      plain.push(r.ticketId, r.playerId, r.mode, String(r.requestedAtMs), skillText(r.skill), String(party.length));
      for (const m of party) plain.push(m.playerId, skillText(m.skill));
    }
    const out = await this.run(
      "enqueuePlayers",
      region,
      { retentionMs: this.retentionMs, modes: this.luaModes, ...(this.latency.modeNames.length ? { latencyPool: true } : {}) },
      plain,
    );
    if (out.results.length !== group.length)
      throw new ScriptReplyError("enqueuePlayers", "results", `${out.results.length} results for ${group.length} requests`);
    const results = group.map(({ value: r }, i): EnqueueResult => {
      const x = out.results[i]!;
      const ids = { ticketId: r.ticketId, playerId: r.playerId };
      if (x.outcome === "queued") return { outcome: "queued", ...ids, sessionId: x.sessionId, sessionReady: x.sessionReady };
      if (x.outcome === "duplicate") return { outcome: "duplicate", ...ids, state: x.state, ...(x.sessionId ? { sessionId: x.sessionId } : {}) };
      return { outcome: "rejected", ...ids, error: x.error, detail: x.detail, ...(x.liveTicketId ? { liveTicketId: x.liveTicketId } : {}) };
    });
    return { results, ready: out.ready, backfills: out.backfills };
  }

  /** Players leave (timeout, cancel, expiry): one script call per region. Results are in input order. */
  async leave(requests: LeaveRequest[]): Promise<LeaveResult[]> {
    MatchmakingStore.batchOrThrow(requests);
    const results: LeaveResult[] = new Array(requests.length);
    const valid: { index: number; value: LeaveRequest }[] = [];
    requests.forEach((entry, index) => {
      const v = this.validateLeave(entry);
      if (v.ok) valid.push({ index, value: v.value });
      else {
        const { playerId, ticketId } = idsOf(entry);
        results[index] = { outcome: "rejected", playerId, ticketId, ...v.error };
      }
    });
    // With latency modes a ticket may be in its slot's pool: the pool answers first, and hands on to a
    // region the tickets it placed there and those it does not hold (issue 14).
    const regional = this.latency.modeNames.length ? await this.latency.leave(valid, results) : valid;
    await Promise.all(
      [...MatchmakingStore.byRegion(regional)].map(async ([region, group]) => {
        for (let i = 0; i < group.length; i += LEAVES_PER_CALL) {
          const chunk = group.slice(i, i + LEAVES_PER_CALL);
          const out = await this.leaveCall(region, chunk);
          chunk.forEach(({ index }, k) => (results[index] = out[k]!));
        }
      }),
    );
    return results;
  }

  /** One leaveQueue call: one result per request, in order. */
  private async leaveCall(region: string, group: { value: LeaveRequest }[]): Promise<LeaveResult[]> {
    const out = await this.run("leaveQueue", region, {
      retentionMs: this.retentionMs,
      requests: group.map(({ value: r }) => ({
        playerId: r.playerId,
        ticketId: r.ticketId,
        reason: r.reason,
        ...(r.mode ? { mode: r.mode } : {}),
        // As text: the script writes it as is, and cjson would turn a large number into 1.7e+12.
        ...(r.requestedAtMs !== undefined ? { requestedAt: String(r.requestedAtMs) } : {}),
      })),
    });
    if (out.results.length !== group.length) throw new ScriptReplyError("leaveQueue", "results", `${out.results.length} results for ${group.length} requests`);
    return group.map(({ value: r }, i): LeaveResult => {
      const x = out.results[i]!;
      const ids = { playerId: r.playerId, ticketId: r.ticketId };
      switch (x.outcome) {
        case "left":
          return {
            outcome: "left",
            ...ids,
            reason: r.reason,
            ...(x.sessionId ? { sessionId: x.sessionId } : {}),
            ...(x.partyMembers?.length ? { partyMembers: x.partyMembers } : {}),
          };
        case "alreadyLeft":
          return { outcome: "alreadyLeft", ...ids, reason: x.reason };
        case "assigned":
          return { outcome: "assigned", ...ids, assignment: toAssignment(x.assignment) };
        case "preempted":
          return { outcome: "preempted", ...ids, reason: r.reason };
        case "superseded":
          return { outcome: "superseded", ...ids };
      }
    });
  }

  // ---------------------------------------------------------------- assignment and outbox

  /**
   * Gives ready sessions (oldest first) to available servers; assigned sessions enter the outbox. Each
   * script call assigns at most ASSIGN_PLAYERS_PER_CALL players; this loops until every ready session has a
   * server, the servers run out, or `maxSessions` (default: no limit) were assigned.
   */
  async assign(region: string, opts: { maxSessions?: number } = {}): Promise<AssignResult> {
    region = this.regionOrThrow(region);
    const maxSessions = this.limit(opts.maxSessions, UNLIMITED);
    const assigned: Assignment[] = [];
    for (;;) {
      const out = await this.run("assignSessions", region, {
        retentionMs: this.retentionMs,
        max: Math.min(maxSessions - assigned.length, MAX_SESSIONS_PER_CALL),
        maxPlayers: ASSIGN_PLAYERS_PER_CALL,
        claimMs: this.servers.claimWindowMs,
      });
      for (const a of out.assigned) assigned.push(toAssignment(a));
      if (!out.more || !out.assigned.length || assigned.length >= maxSessions) {
        return { region, assigned, unassignedSessions: out.unassigned, unassignedByMode: out.unassignedByMode, serversAvailable: out.serversAvailable };
      }
    }
  }

  /**
   * Outbox entries older than `olderThanMs` (match-made not confirmed sent): re-stamped and returned for
   * re-publishing. At most CLAIM_PER_CALL sessions per script call; loops until none is left or `max`.
   */
  async claimUnannounced(region: string, opts: { olderThanMs: number; max?: number }): Promise<Assignment[]> {
    region = this.regionOrThrow(region);
    const olderThanMs = this.nonNegative("olderThanMs", opts?.olderThanMs);
    const max = this.limit(opts?.max, UNLIMITED);
    const claimed = new Map<string, Assignment>();
    for (;;) {
      const out = await this.run("claimUnannounced", region, { olderThanMs, max: Math.min(max - claimed.size, CLAIM_PER_CALL) });
      // A claimed entry is re-stamped to now; with olderThanMs 0 it would come back: stop at the first repeat.
      const fresh = out.assignments.filter((a) => !claimed.has(a.sessionId));
      for (const a of fresh) claimed.set(a.sessionId, toAssignment(a));
      if (!out.more || fresh.length < out.assignments.length || claimed.size >= max) return [...claimed.values()];
    }
  }

  /** The match-made messages of these sessions were sent: drop them from the outbox (CONFIRM_PER_CALL ids per script call). */
  async confirmAnnounced(region: string, sessionIds: string[]): Promise<void> {
    region = this.regionOrThrow(region);
    const ids = Array.isArray(sessionIds) ? sessionIds.filter((s) => typeof s === "string" && SESSION_ID_PATTERN.test(s)) : [];
    for (let i = 0; i < ids.length; i += CONFIRM_PER_CALL) await this.run("confirmAnnounced", region, { sessionIds: ids.slice(i, i + CONFIRM_PER_CALL) });
  }

  // ---------------------------------------------------------------- servers (delegated to ServerPool)

  /**
   * Register, or renew the lease (heartbeat). Without `region` a known server is found where it lives and a
   * new one goes to `defaultRegion`. Bad input is answered "rejected", not thrown.
   */
  registerServer(i: { serverId: string; address: string; region?: string; defaultRegion?: string }): Promise<RegisterResult> {
    return this.servers.register(i);
  }

  /** The server confirms the session it was claimed for. Throws StoreInputError on bad input. */
  ackServer(i: { serverId: string; region?: string; sessionId?: string }): Promise<AckResult> {
    return this.servers.ack(i);
  }

  /** The game is over: end the session, server back to the pool (found where it lives without region). */
  releaseServer(i: { serverId: string; region?: string; sessionId?: string }): Promise<ReleaseResult> {
    return this.servers.release(i);
  }

  /** The server leaves the pool; if allocated, its session ends. Throws StoreInputError on bad input. */
  deregisterServer(i: { serverId: string; region?: string }): Promise<DeregisterResult> {
    return this.servers.deregister(i);
  }

  /** Silent servers and lapsed claims leave the pool: unconfirmed sessions are requeued at the front, confirmed ones lost. */
  expireServers(region: string, opts: { maxServers?: number; maxPlayers?: number } = {}): Promise<ExpireServersResult> {
    return this.servers.expire(region, opts);
  }

  // ---------------------------------------------------------------- backfill (delegated to BackfillDesk)

  /** A running game asks for players; one request per session, a new one replaces the old. Throws StoreInputError on bad input. */
  requestBackfill(i: BackfillRequest): Promise<BackfillRequestResult> {
    return this.backfills.request(i);
  }

  /** The game needs no more players ("none" when it had no open request). Throws StoreInputError on bad input. */
  cancelBackfill(i: { serverId: string; region?: string; sessionId?: string }): Promise<BackfillCancelResult> {
    return this.backfills.cancel(i);
  }

  /** Waiting tickets join the region's open requests (oldest first), before assign() gives them new sessions. */
  fillBackfills(region: string): Promise<BackfillFillResult> {
    return this.backfills.fill(region);
  }

  /** Backfill joins whose announcement was not confirmed sent within olderThanMs, for re-publishing. */
  claimBackfillJoins(region: string, opts: { olderThanMs: number; max?: number }): Promise<BackfillJoin[]> {
    return this.backfills.claimJoins(region, this.nonNegative("olderThanMs", opts?.olderThanMs), this.limit(opts?.max, UNLIMITED));
  }

  /** The announcements of these backfill joins were sent. */
  confirmBackfillJoins(region: string, joinIds: string[]): Promise<void> {
    return this.backfills.confirmJoins(region, joinIds);
  }

  // ---------------------------------------------------------------- sweeper

  /**
   * Safety net: players waiting longer than playerMaxAgeMs and sessions older than sessionMaxAgeMs leave
   * ("expired"). Each script call expires at most EXPIRE_PLAYERS_PER_CALL players (a session counts its
   * members); this loops until nothing stale is left, or `max` players and sessions were handled.
   */
  async expireStale(region: string, o: { playerMaxAgeMs: number; sessionMaxAgeMs: number; max?: number }): Promise<ExpireStaleResult> {
    region = this.regionOrThrow(region);
    const playerMaxAgeMs = this.nonNegative("playerMaxAgeMs", o?.playerMaxAgeMs);
    const sessionMaxAgeMs = this.nonNegative("sessionMaxAgeMs", o?.sessionMaxAgeMs);
    const max = this.limit(o?.max, UNLIMITED);
    const result: ExpireStaleResult = { region, expiredPlayers: [], expiredSessions: [] };
    for (;;) {
      const budget = Math.min(EXPIRE_PLAYERS_PER_CALL, max - result.expiredPlayers.length - result.expiredSessions.length);
      const out = await this.run("expireStale", region, { retentionMs: this.retentionMs, playerMaxAgeMs, sessionMaxAgeMs, max: Math.max(1, budget) });
      result.expiredPlayers.push(...out.players);
      result.expiredSessions.push(...out.sessions);
      if (!out.more || result.expiredPlayers.length + result.expiredSessions.length >= max) break;
    }
    // The slot's latency pool is swept by its first region.
    if (this.latency.sweepsFor(region)) result.expiredPlayers.push(...(await this.latency.expire(region, playerMaxAgeMs)));
    return result;
  }

  /**
   * The regrouping sweep (call it from the sweep timer): in every rules mode, open sessions that can be
   * completed from other open sessions under the window in force now are filled (whole units moved; an
   * emptied donor is deleted). Each script call examines at most REGROUP_TARGETS_PER_CALL sessions and
   * moves at most `maxPlayers` (default REGROUP_PLAYERS_PER_CALL) players. One regroup() examines at most
   * REGROUP_SESSIONS_PER_SWEEP sessions per mode and remembers where it stopped: the next one goes on from
   * there (oldest seq first, then round again), so a sweep costs the same however many sessions are open.
   */
  async regroup(region: string, opts: { maxPlayers?: number } = {}): Promise<RegroupResult> {
    region = this.regionOrThrow(region);
    const maxPlayers = this.limit(opts.maxPlayers, REGROUP_PLAYERS_PER_CALL);
    const result: RegroupResult = { region, mergedSessions: [], readySessions: [] };
    for (const mode of this.rulesModeNames) {
      // A latency mode's open sessions are reopened placements: only its pool refills them (within the latency max).
      if (this.latency.isLatencyMode(mode)) continue;
      const key = `${region}/${mode}`;
      let afterSeq = this.regroupCursor.get(key) ?? 0;
      for (let examined = 0; examined < REGROUP_SESSIONS_PER_SWEEP; examined += REGROUP_TARGETS_PER_CALL) {
        const out = await this.run("regroupSessions", region, {
          mode,
          rules: this.luaModes[mode],
          afterSeq,
          maxTargets: REGROUP_TARGETS_PER_CALL,
          maxPlayers: Math.min(maxPlayers, REGROUP_PLAYERS_PER_CALL),
        });
        result.mergedSessions.push(...out.merged);
        result.readySessions.push(...out.ready);
        afterSeq = out.more && out.cursor > afterSeq ? out.cursor : 0;
        if (afterSeq === 0) break;
      }
      this.regroupCursor.set(key, afterSeq);
    }
    // Latency modes: pooled tickets whose max widened with their wait form the groups they now can, placed
    // in any region of the slot (the slot's first region sweeps it; issue 14).
    if (this.latency.sweepsFor(region)) result.readySessions.push(...(await this.latency.sweep(region)));
    return result;
  }

  // ---------------------------------------------------------------- reads

  /**
   * A player's current ticket as the region's record (or, with latency modes, the slot's pool) holds it: a
   * latency ticket is read in its home region and shows the region it was placed in (issue 14).
   */
  async getPlayer(region: string, playerId: string): Promise<PlayerView | null> {
    region = this.regionOrThrow(region);
    playerId = this.idOrThrow("playerId", playerId);
    const regional = await this.readPlayer(region, playerId);
    if (!this.latency.modeNames.length) return regional;
    return this.latency.read(region, playerId, regional, (placedIn) => this.readPlayer(placedIn, playerId));
  }

  private async readPlayer(region: string, playerId: string): Promise<PlayerView | null> {
    const out = await this.run("readPlayer", region, { playerId });
    if (!out.found || !out.player) return null;
    const p = out.player;
    const view: PlayerView = {
      playerId,
      ticketId: p.ticketId ?? "",
      mode: p.mode ?? "",
      region: p.region || region,
      state: PLAYER_STATES.find((s) => s === p.state) ?? "left",
      requestedAtMs: Number(p.requestedAt) || 0,
    };
    const leftReason = LEAVE_REASONS.find((r) => r === p.leftReason);
    if (leftReason) view.leftReason = leftReason;
    if (p.session) view.sessionId = p.session;
    if (p.state === "matched" && out.assignment) {
      const a = toAssignment(out.assignment);
      view.sessionId = a.sessionId || view.sessionId;
      view.serverId = a.serverId;
      view.address = a.address;
      view.players = a.players;
      const lostAt = Number(p.lostAt);
      if (p.lostAt !== undefined && Number.isFinite(lostAt)) view.serverLostAtMs = lostAt;
      if (a.teams) {
        view.teams = a.teams;
        const team = a.teams.findIndex((t) => t.players.includes(playerId));
        if (team >= 0) view.team = team;
      }
      if (a.quality) view.quality = a.quality;
    }
    const latency = Number(p.latency);
    if (p.latency !== undefined && Number.isFinite(latency)) view.latencyMs = latency;
    const skill = Number(p.skill);
    if (p.skill !== undefined && p.skill !== "" && Number.isFinite(skill)) view.skill = skill;
    if (p.party) view.party = p.party.split(",");
    return view;
  }

  /** A server and, while allocated, its session and players; without region, where it lives. */
  getServer(region: string | undefined, serverId: string): Promise<ServerAllocation | null> {
    return this.servers.get(region, serverId);
  }

  listServers(region: string): Promise<ServerRecord[]> {
    return this.servers.list(region);
  }

  async stats(region: string): Promise<RegionStats> {
    region = this.regionOrThrow(region);
    // Open sessions are counted per mode: MODES_PER_STATS_CALL modes per call, the other figures from the first.
    // The slot's latency pool (tickets not placed in a region yet) is reported, as a figure of its own, by
    // the slot's first region, which sweeps it.
    const reportsPool = this.latency.sweepsFor(region);
    const out = await this.run("readStats", region, {
      modes: this.modeNames.slice(0, MODES_PER_STATS_CALL),
      rulesModes: this.rulesModeNames.slice(0, RULES_MODES_PER_STATS_CALL),
      ...(reportsPool ? { latencyModes: this.latency.modeNames } : {}),
    });
    for (let i = RULES_MODES_PER_STATS_CALL; i < this.rulesModeNames.length; i += RULES_MODES_PER_STATS_CALL) {
      const more = await this.run("readStats", region, { modes: [], rulesModes: this.rulesModeNames.slice(i, i + RULES_MODES_PER_STATS_CALL) });
      Object.assign(out.byMode, more.byMode);
    }
    for (let i = MODES_PER_STATS_CALL; i < this.modeNames.length; i += MODES_PER_STATS_CALL) {
      out.sessionsOpen += (await this.run("readStats", region, { modes: this.modeNames.slice(i, i + MODES_PER_STATS_CALL) })).sessionsOpen;
    }
    const waitingByMode: Record<string, number> = {};
    for (const mode of this.modeNames) waitingByMode[mode] = 0;
    for (const [mode, n] of Object.entries(out.waitingByMode)) if (n > 0) waitingByMode[mode] = n;
    let latencyPool: LatencyPoolStats | undefined;
    if (reportsPool && out.latencyPool) {
      const pooled: Record<string, number> = {};
      for (const mode of this.latency.modeNames) pooled[mode] = Math.max(0, out.latencyPool.waitingByMode[mode] ?? 0);
      latencyPool = {
        regions: this.latency.slotRegions(region),
        waitingPlayers: Object.values(pooled).reduce((a, b) => a + b, 0),
        waitingByMode: pooled,
        oldestWaitMs: out.latencyPool.oldestWaitMs,
      };
    }
    const samples = out.matchTimes.sort((a, b) => a - b);
    const matchedByMode: Record<string, number> = {};
    for (const mode of this.modeNames) matchedByMode[mode] = Math.max(0, out.matchedByMode[mode] ?? 0);
    return {
      region,
      waitingPlayers: out.waiting,
      waitingByMode,
      sessionsOpen: out.sessionsOpen,
      sessionsReady: out.sessionsReady,
      sessionsAnnouncing: out.sessionsAnnouncing,
      serversAvailable: out.serversAvailable,
      serversAllocated: out.serversAllocated,
      oldestWaitMs: out.oldestWaitMs,
      timeToMatchMs: {
        count: samples.length,
        p50: percentileOfSorted(samples, 50, 0),
        p95: percentileOfSorted(samples, 95, 0),
        p99: percentileOfSorted(samples, 99, 0),
        max: samples.at(-1) ?? 0,
        histogram: histogramOf(samples, TIME_TO_MATCH_BOUNDS_MS),
      },
      matchedPlayers: Object.values(matchedByMode).reduce((a, b) => a + b, 0),
      matchedByMode,
      ...(this.rulesModeNames.length ? { byMode: this.modeStats(waitingByMode, out.byMode) } : {}),
      ...(latencyPool ? { latencyPool } : {}),
    };
  }

  /** Per rules mode: waiting by skill band (skill modes) and the quality of the recent matches. */
  private modeStats(
    waitingByMode: Record<string, number>,
    raw: Record<string, { bands: Record<string, number>; recent: string[] }>,
  ): Record<string, ModeStats> {
    const byMode: Record<string, ModeStats> = {};
    for (const mode of this.rulesModeNames) {
      const r = raw[mode] ?? { bands: {}, recent: [] };
      const samples = r.recent
        .map((t) => JSON.parse(t) as unknown)
        .filter((q): q is [number, number, number] => Array.isArray(q) && q.length === 3 && q.every((x) => typeof x === "number"));
      const p = (i: 0 | 1 | 2) => {
        const sorted = samples.map((q) => q[i]).sort((a, b) => a - b);
        return { p50: percentileOfSorted(sorted, 50, 0), p95: percentileOfSorted(sorted, 95, 0) };
      };
      const stats: ModeStats = { waiting: waitingByMode[mode] ?? 0, recentMatches: samples.length, skillSpread: p(0), teamSkillGap: p(1), waitSeconds: p(2) };
      if (this.rules[mode]!.skill) {
        const bands: Record<string, number> = {};
        for (const [band, n] of Object.entries(r.bands).sort(([a], [b]) => Number(a) - Number(b))) if (n > 0) bands[band] = n;
        stats.waitingBySkillBand = bands;
      }
      byMode[mode] = stats;
    }
    return byMode;
  }

  // ---------------------------------------------------------------- abuse limits

  /**
   * Takes one unit of a fixed-window limit of `limit` per `windowMs` for `subject` (`player:<id>` or
   * `address:<ip>`), or refuses without counting (lua/rateLimit.lua: one atomic call on the subject's own key).
   */
  async rateLimit(subject: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    if (typeof subject !== "string" || !RATE_LIMIT_SUBJECT.test(subject)) {
      throw new StoreInputError("invalid_subject", "a rate-limit subject is player:<playerId> or address:<client address>");
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1e9) throw new StoreInputError("invalid_limit", "limit must be an integer 1-1000000000");
    if (!Number.isSafeInteger(windowMs) || windowMs < 1 || windowMs > 86_400_000)
      throw new StoreInputError("invalid_windowMs", "windowMs must be an integer 1-86400000");
    const script = this.scripts.rateLimit;
    const key = rateLimitKey(this.prefix, subject);
    let raw: unknown;
    try {
      raw = await this.redis.runScript(key, script.sha, script.body, [key], [String(limit), String(windowMs)]);
    } catch (err) {
      throw scriptInputError(err) ?? err;
    }
    return decodeReply("rateLimit", SCRIPT_REPLIES.rateLimit, raw);
  }

  // ---------------------------------------------------------------- dead letters

  /** Messages that could not be processed, kept for inspection: a capped stream per source. */
  async deadLetter(source: string, entries: { body: string; error: string; detail: string }[]): Promise<void> {
    source = this.idOrThrow("source", source);
    const key = deadLetterKey(this.prefix, source);
    const at = new Date(this.now()).toISOString();
    const text = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));
    if (!Array.isArray(entries) || entries.some((e) => typeof e !== "object" || e === null || Array.isArray(e))) {
      throw new StoreInputError("invalid_entries", "dead-letter entries must be an array of {body, error, detail} objects");
    }
    // Sent together: node-redis pipelines them on one connection, in order.
    await Promise.all(
      entries.map((e) =>
        this.redis.command(key, [
          "XADD",
          key,
          "MAXLEN",
          "~",
          DEAD_LETTER_MAXLEN,
          "*",
          "body",
          text(e.body),
          "error",
          text(e.error),
          "detail",
          text(e.detail),
          "at",
          at,
        ]),
      ),
    );
  }

  async listDeadLetters(source: string, count = 100): Promise<{ id: string; body: string; error: string; detail: string; at: string }[]> {
    source = this.idOrThrow("source", source);
    const key = deadLetterKey(this.prefix, source);
    const raw = await this.redis.command<[string, string[]][]>(key, ["XREVRANGE", key, "+", "-", "COUNT", String(this.limit(count, 100))], true);
    return raw.map(([id, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      return { id, body: f.body ?? "", error: f.error ?? "", detail: f.detail ?? "", at: f.at ?? "" };
    });
  }
}
