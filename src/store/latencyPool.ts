/**
 * The latency pools (issue 14): per hash slot (a zone's, or a lone region's) the tickets of latency modes
 * wait in `<prefix>:{<tag>}:Latency:` until a full group can be placed in one region of the slot within the
 * max in force (lua/poolLatencyTickets.lua, placeLatencyPool.lua, leaveLatencyPool.lua, expireLatencyPool.lua).
 * A placed group is an ordinary ready session of its region from then on (assign, leave, expiry as for any
 * other), and a placed ticket never returns to the pool: so a read or a leave that finds it placed goes on
 * in that region, a second step that no interleaving can make wrong. MatchmakingStore delegates to this.
 */
import { hasOwnName } from "../domain/fields";
import { ticketPlacement, zoneRegions } from "../domain/latency";
import type { ModeRules } from "../domain/modeRules";
import type { LeaveReason, PlayerView, SessionPlayer } from "../domain/types";
import type { RedisConnection } from "./connection";
import { hashTag, latencyPoolPrefix, regionPrefix, type Zones } from "./keys";
import type { ScriptName, ScriptReply } from "./replies";
import { ScriptReplyError } from "./replyDecoder";
import type { EnqueueRequest, EnqueueResult, LeaveRequest, LeaveResult } from "./types";

/**
 * A latency mode as the pool scripts take it (lua/includes/latency_rules.lua): the rules the regional scripts
 * take (lua/includes/mode_rules.lua: teams, parties, skill window) and the latency max with its widen steps.
 */
interface LuaLatencyRule {
  size: number;
  teams: number;
  teamSize: number;
  maxPartySize: number;
  skill?: { window: number; widen: { afterSeconds: number; window: number }[] };
  latency: { max: number; widen: [number, number][] };
}

/** Runs a script on a slot: routing key, ARGV[1], the JSON arguments, the plain arguments. */
export type RunScript = <N extends ScriptName>(name: N, key: string, prefixArg: string, payload: string, plain?: string[]) => Promise<ScriptReply<N>>;

export interface LatencyPoolOptions {
  prefix: string;
  /** Served regions in configured order (undefined: the store is bound to no list). */
  regions?: readonly string[];
  zones: Zones;
  rules: Readonly<Record<string, ModeRules>>;
  retentionMs: number;
  now: () => number;
}

/** A skill as the scripts take it in plain ARGV: "" = none (lua/includes/skill_text.lua reads it). */
export function skillText(v: number | undefined): string {
  return v === undefined ? "" : String(v);
}

/**
 * Requests per poolLatencyTickets call (each anchors a group: it looks at the index ranges of every region of
 * its slot), and players (a party counts its members: each is checked in every region). A request of a rules
 * mode (teams, parties, skill) counts as LATENCY_RULES_REQUEST_COST requests: its anchor also reads the units
 * nearest its skill and packs teams.
 */
export const LATENCY_REQUESTS_PER_CALL = 25;
export const LATENCY_PLAYERS_PER_CALL = 40;
export const LATENCY_RULES_REQUEST_COST = 2.5;
/** Pooled units a placeLatencyPool call takes as anchors (plain modes; rules modes a 1/LATENCY_RULES_REQUEST_COST of it), and one sweep per mode and slot at most. */
export const LATENCY_ANCHORS_PER_CALL = 25;
export const LATENCY_ANCHORS_PER_SWEEP = 200;
/**
 * Players one pool call places at most (both scripts stop taking up anchors there; the first group always
 * forms): a placed player costs about ten writes, so this caps a call's writes. The tickets left over wait in
 * the pool for the next call or sweep.
 */
export const LATENCY_PLACED_PER_CALL = 30;
const LEAVES_PER_CALL = 25;
const EXPIRE_PER_CALL = 50;

const LEAVE_REASONS: readonly LeaveReason[] = ["timedOut", "cancelled", "expired"];

export class LatencyPool {
  private readonly modes: Record<string, LuaLatencyRule> = {};
  readonly modeNames: readonly string[];
  /** Latency modes with other rules too (teams, parties, skill): their anchors cost more (LATENCY_RULES_REQUEST_COST). */
  private readonly rulesModes = new Set<string>();
  /** `<tag>/<mode>` -> the wait rank the next sweep goes on from. */
  private readonly cursor = new Map<string, number>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly run: RunScript,
    private readonly o: LatencyPoolOptions,
  ) {
    for (const [mode, r] of Object.entries(o.rules))
      if (r.latency)
        this.modes[mode] = {
          size: r.size,
          teams: r.teams,
          teamSize: r.teamSize,
          maxPartySize: r.maxPartySize,
          ...(r.skill ? { skill: { window: r.skill.window, widen: r.skill.widen.map((w) => ({ afterSeconds: w.afterSeconds, window: w.window })) } } : {}),
          latency: { max: r.latency.max, widen: r.latency.widen.map((w) => [w.afterSeconds, w.max]) },
        };
    this.modeNames = Object.keys(this.modes);
    for (const [mode, r] of Object.entries(this.modes)) if (r.skill || r.teams > 1 || r.maxPartySize > 1) this.rulesModes.add(mode);
  }

  /** Whether a mode is matched by latency (own-property lookup). */
  isLatencyMode(mode: string): boolean {
    return hasOwnName(this.modes, mode);
  }

  /** What fillBackfills takes pooled units with (src/store/backfills.ts): the region's pool and the latency modes. */
  backfillPool(region: string): { prefix: string; modes: Record<string, LuaLatencyRule> } | undefined {
    return this.modeNames.length > 0 ? { prefix: latencyPoolPrefix(this.o.prefix, region, this.o.zones), modes: this.modes } : undefined;
  }

  /** The regions of a region's slot, in configured order (the first one runs the slot's sweeps). */
  slotRegions(region: string): string[] {
    return zoneRegions({ regions: this.o.regions ?? Object.keys(this.o.zones), zones: this.o.zones }, region);
  }

  /** Whether `region` runs its slot's pool sweeps (the first region of its zone, or a lone region). */
  sweepsFor(region: string): boolean {
    return this.modeNames.length > 0 && this.slotRegions(region)[0] === region;
  }

  private call<N extends ScriptName>(name: N, region: string, args: Record<string, unknown>, plain: string[] = []): Promise<ScriptReply<N>> {
    const pool = latencyPoolPrefix(this.o.prefix, region, this.o.zones);
    const regions = this.slotRegions(region).map((r) => [r, regionPrefix(this.o.prefix, r, this.o.zones)]);
    const payload = JSON.stringify({ now: this.o.now(), regions, retentionMs: this.o.retentionMs, ...args });
    return this.run(name, `${pool}WaitingPerMode`, pool, payload, plain);
  }

  /** Latency-mode requests into their slots' pools; results in input order, and the sessions placed. */
  async enqueue(entries: { index: number; value: EnqueueRequest }[], results: EnqueueResult[]): Promise<{ region: string; sessionId: string }[]> {
    const ready: { region: string; sessionId: string }[] = [];
    const bySlot = new Map<string, { index: number; value: EnqueueRequest }[]>();
    for (const e of entries) {
      const tag = hashTag(e.value.region, this.o.zones);
      bySlot.set(tag, [...(bySlot.get(tag) ?? []), e]);
    }
    const layout = { regions: this.o.regions ?? Object.keys(this.o.zones), zones: this.o.zones };
    await Promise.all(
      [...bySlot.values()].map(async (group) => {
        for (let i = 0; i < group.length;) {
          // At most LATENCY_REQUESTS_PER_CALL requests and LATENCY_PLAYERS_PER_CALL players (at least one request).
          let end = i;
          for (let players = 0, cost = 0; end < group.length; end++) {
            const r = group[end]!.value;
            players += 1 + (r.party?.length ?? 0);
            cost += this.rulesModes.has(r.mode) ? LATENCY_RULES_REQUEST_COST : 1;
            if (end > i && (players > LATENCY_PLAYERS_PER_CALL || cost > LATENCY_REQUESTS_PER_CALL)) break;
          }
          const chunk = group.slice(i, end);
          i = end;
          const plain: string[] = [];
          for (const { value: r } of chunk) {
            // Validated by the store: a latency mode's ticket has at least one region of its slot.
            const placed = ticketPlacement(layout, { region: r.region, ...(r.latencies ? { latencies: r.latencies } : {}) }, r.region);
            const candidates = placed.ok ? Object.entries(placed.value.candidates) : [[r.region, undefined] as const];
            plain.push(r.ticketId, r.playerId, r.mode, String(r.requestedAtMs), r.region, skillText(r.skill), String(candidates.length));
            for (const [region, ms] of candidates) plain.push(region, ms === undefined ? "" : String(ms));
            const party = r.party ?? [];
            plain.push(String(party.length));
            for (const m of party) plain.push(m.playerId, skillText(m.skill));
          }
          const out = await this.call("poolLatencyTickets", chunk[0]!.value.region, { modes: this.modes, maxPlayers: LATENCY_PLACED_PER_CALL }, plain);
          if (out.results.length !== chunk.length)
            throw new ScriptReplyError("poolLatencyTickets", "results", `${out.results.length} results for ${chunk.length} requests`);
          chunk.forEach(({ index, value: r }, k) => {
            const x = out.results[k]!;
            const ids = { ticketId: r.ticketId, playerId: r.playerId };
            if (x.outcome === "queued")
              results[index] = {
                outcome: "queued",
                ...ids,
                sessionId: x.sessionId,
                sessionReady: x.sessionReady,
                ...(x.pooled ? { pooled: true as const } : {}),
              };
            else if (x.outcome === "duplicate")
              results[index] = { outcome: "duplicate", ...ids, state: x.state, ...(x.sessionId ? { sessionId: x.sessionId } : {}) };
            else
              results[index] = { outcome: "rejected", ...ids, error: x.error, detail: x.detail, ...(x.liveTicketId ? { liveTicketId: x.liveTicketId } : {}) };
          });
          for (const [region, sessionId] of out.ready) ready.push({ region: region!, sessionId: sessionId! });
        }
      }),
    );
    return ready;
  }

  /**
   * Leaves asked of the pools first: a pooled ticket leaves there (its result is set); a placed one goes on
   * in the region it was placed in, a ticket the pool does not hold in its home region (returned, for
   * leaveQueue). A request naming a mode without a latency rule skips the pool.
   */
  async leave(entries: { index: number; value: LeaveRequest }[], results: LeaveResult[]): Promise<{ index: number; value: LeaveRequest }[]> {
    const regional: { index: number; value: LeaveRequest }[] = [];
    const bySlot = new Map<string, { index: number; value: LeaveRequest }[]>();
    for (const e of entries) {
      if (e.value.mode !== undefined && !this.isLatencyMode(e.value.mode)) regional.push(e);
      else {
        const tag = hashTag(e.value.region, this.o.zones);
        bySlot.set(tag, [...(bySlot.get(tag) ?? []), e]);
      }
    }
    await Promise.all(
      [...bySlot.values()].map(async (group) => {
        for (let i = 0; i < group.length; i += LEAVES_PER_CALL) {
          const chunk = group.slice(i, i + LEAVES_PER_CALL);
          const out = await this.call("leaveLatencyPool", chunk[0]!.value.region, {
            requests: chunk.map(({ value: r }) => ({ playerId: r.playerId, ticketId: r.ticketId, reason: r.reason })),
          });
          if (out.results.length !== chunk.length)
            throw new ScriptReplyError("leaveLatencyPool", "results", `${out.results.length} results for ${chunk.length} requests`);
          chunk.forEach((e, k) => {
            const x = out.results[k]!;
            const ids = { playerId: e.value.playerId, ticketId: e.value.ticketId };
            if (x.outcome === "left")
              results[e.index] = { outcome: "left", ...ids, reason: e.value.reason, ...(x.partyMembers?.length ? { partyMembers: x.partyMembers } : {}) };
            else if (x.outcome === "alreadyLeft") results[e.index] = { outcome: "alreadyLeft", ...ids, reason: x.reason };
            else if (x.outcome === "placed") regional.push({ index: e.index, value: { ...e.value, region: x.region } });
            else regional.push(e);
          });
        }
      }),
    );
    return regional;
  }

  /**
   * The pool's record of a player, newer than `regional` (its record in the region asked): a pooled or left
   * ticket as the pool holds it, or, placed, its record in the region it was placed in (read with
   * `readRegion`). Otherwise `regional`.
   */
  async read(
    region: string,
    playerId: string,
    regional: PlayerView | null,
    readRegion: (region: string) => Promise<PlayerView | null>,
  ): Promise<PlayerView | null> {
    const key = `${latencyPoolPrefix(this.o.prefix, region, this.o.zones)}Player:${playerId}`;
    const flat = await this.redis.command<string[]>(key, ["HGETALL", key], true);
    const p: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) p[flat[i]!] = flat[i + 1]!;
    const at = Number(p.requestedAt);
    if (!p.ticketId || !Number.isFinite(at) || (regional && regional.requestedAtMs > at)) return regional;
    if (p.state === "placed" && p.region) {
      const placed = p.region === region ? regional : await readRegion(p.region);
      return placed && placed.ticketId === p.ticketId ? placed : regional;
    }
    const view: PlayerView = {
      playerId,
      ticketId: p.ticketId,
      mode: p.mode ?? "",
      region: p.home ?? region,
      state: p.state === "waiting" ? "waiting" : "left",
      requestedAtMs: at,
    };
    const reason = LEAVE_REASONS.find((r) => r === p.leftReason);
    if (view.state === "left") view.leftReason = reason ?? "timedOut";
    if (p.party) view.party = p.party.split(",");
    // A skill mode's unit keeps its members' skills on its leader's record, in party order (leader first).
    const skill = Number(p.skills?.split(",")[0]);
    if (p.skills !== undefined && Number.isFinite(skill)) view.skill = skill;
    return view;
  }

  /** The pool sweep of a slot (run by its first region): groups that waiting made possible are placed. */
  async sweep(region: string): Promise<string[]> {
    const ready: string[] = [];
    const tag = hashTag(region, this.o.zones);
    for (const mode of this.modeNames) {
      let offset = this.cursor.get(`${tag}/${mode}`) ?? 0;
      for (let examined = 0; examined < LATENCY_ANCHORS_PER_SWEEP;) {
        const out = await this.call("placeLatencyPool", region, {
          modes: this.modes,
          mode,
          offset,
          max: this.rulesModes.has(mode) ? Math.floor(LATENCY_ANCHORS_PER_CALL / LATENCY_RULES_REQUEST_COST) : LATENCY_ANCHORS_PER_CALL,
          maxPlayers: LATENCY_PLACED_PER_CALL,
        });
        for (const [, sid] of out.ready) ready.push(sid!);
        examined += Math.max(1, out.examined);
        // Placed tickets leave the wait order: the next call goes on after the anchors this one kept; past the
        // end it starts from the oldest at the next sweep.
        offset = out.more ? offset + out.kept : 0;
        if (!out.more) break;
      }
      this.cursor.set(`${tag}/${mode}`, offset);
    }
    return ready;
  }

  /** Pooled tickets older than the max (lost orchestrators) leave `expired`; the slot's first region runs it. */
  async expire(region: string, playerMaxAgeMs: number): Promise<SessionPlayer[]> {
    const expired: SessionPlayer[] = [];
    for (const mode of this.modeNames) {
      for (;;) {
        const out = await this.call("expireLatencyPool", region, { mode, playerMaxAgeMs, max: EXPIRE_PER_CALL });
        expired.push(...out.players);
        if (!out.more) break;
      }
    }
    return expired;
  }

  /** Pooled tickets per latency mode of a slot (its first region's stats count them). */
  async waitingByMode(region: string): Promise<Record<string, number>> {
    const key = `${latencyPoolPrefix(this.o.prefix, region, this.o.zones)}WaitingPerMode`;
    const flat = await this.redis.command<string[]>(key, ["HGETALL", key], true);
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) if (this.isLatencyMode(flat[i]!)) out[flat[i]!] = Math.max(0, Number(flat[i + 1]) || 0);
    return out;
  }
}
