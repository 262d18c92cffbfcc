/**
 * Backfill (issue 14): a running game asks for players, and waiting tickets that fit join it before they
 * can start new sessions. Over the region scripts requestBackfill, cancelBackfill, fillBackfills and the
 * join outbox (claimBackfillJoins, confirmBackfillJoins); see src/store/README.md "Backfill".
 *
 * A request names the server (found where it lives, as the other game-server calls) and the session it
 * runs; one request per session, a new one replaces the old. fill() serves the open requests of a region,
 * oldest first, in capped script calls (it loops), and answers the joins to announce.
 */
import { validateId, validateRegion } from "../domain/validation";
import type { ScriptName, ScriptReply, BackfillJoinReply } from "./replies";
import { StoreInputError } from "./storeInputError";
import { toAssignment } from "./assignments";
import { SESSION_ID_PATTERN } from "./serverPool";
import type { BackfillCancelResult, BackfillJoin, BackfillFillResult, BackfillRequest, BackfillRequestResult } from "./types";

/** Work per fillBackfills call: requests examined, players joined, waiting players looked at. */
export const BACKFILL_CALL_LIMITS = { requests: 10, players: 50, scan: 200, claims: 20, confirms: 500 } as const;
/** Safety bound of one fill pass (each call is capped; a region with 1,000 open requests takes 50 calls). */
const FILL_MAX_CALLS = 200;
/** `<region>.b<seq>.<n>` as fillBackfills.lua names joins. */
const JOIN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}\.b[0-9]{1,15}\.[0-9]{1,15}$/;

export interface BackfillDeskOptions {
  regions?: readonly string[];
  retentionMs: number;
  /** The modes as the matching scripts take them (lua/includes/mode_rules.lua). */
  luaModes: Record<string, unknown>;
  /** One region script call (the store's runner). */
  run: <N extends ScriptName>(name: N, region: string, args: Record<string, unknown>) => Promise<ScriptReply<N>>;
  /** Where a server lives (the global server index), or null. */
  locate: (serverId: string) => Promise<string | null>;
  /**
   * Latency modes (issue 14): the latency pool of a region's slot and the latency modes as the pool scripts
   * take them, whose pooled units fill that region's games too (undefined: no latency mode).
   */
  latencyPool?: (region: string) => { prefix: string; modes: Record<string, unknown> } | undefined;
}

export function toJoin(j: BackfillJoinReply): BackfillJoin {
  return { ...toAssignment(j), backfillId: j.backfillId, joined: j.joined.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId })), joinId: j.joinId };
}

export class BackfillDesk {
  constructor(private readonly o: BackfillDeskOptions) {}

  private regionOrThrow(value: unknown): string {
    const r = validateRegion(value, this.o.regions);
    if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    return r.value;
  }

  private async regionOf(serverId: string, region: string | undefined): Promise<string | null> {
    if (region !== undefined) return this.regionOrThrow(region);
    return this.o.locate(serverId);
  }

  private static ids(serverId: unknown, sessionId: unknown, required: boolean): { serverId: string; sessionId?: string } {
    const id = validateId("serverId", serverId);
    if (!id.ok) throw new StoreInputError(id.error.error, id.error.detail);
    if (sessionId === undefined && !required) return { serverId: id.value };
    if (typeof sessionId !== "string" || !SESSION_ID_PATTERN.test(sessionId)) {
      throw new StoreInputError("invalid_sessionId", "sessionId must look like <region>.<number>, as given in match-made");
    }
    return { serverId: id.value, sessionId };
  }

  /** Slots as the API takes them: a number (one-team modes) or one number per team. */
  static slotsOrThrow(slots: unknown): number[] {
    const list = typeof slots === "number" ? [slots] : slots;
    if (!Array.isArray(list) || list.length < 1 || list.length > 100 || !list.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 100)) {
      throw new StoreInputError("invalid_slots", "slots must be a number of players, or an array of the free slots per team (integers 0-100)");
    }
    const total = (list as number[]).reduce((a, b) => a + b, 0);
    if (total < 1 || total > 100) throw new StoreInputError("invalid_slots", `slots must add up to 1-100 players (got ${total})`);
    return list as number[];
  }

  /** Opens (or replaces) the session's request. Throws StoreInputError on malformed input. */
  async request(i: BackfillRequest): Promise<BackfillRequestResult> {
    const { serverId, sessionId } = BackfillDesk.ids(i?.serverId, i?.sessionId, true);
    const slots = BackfillDesk.slotsOrThrow(i.slots);
    if (i.requestId !== undefined) {
      const r = validateId("requestId", i.requestId);
      if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    }
    const region = await this.regionOf(serverId, i.region);
    if (!region) return { outcome: "notFound" };
    const out = await this.o.run("requestBackfill", region, {
      serverId,
      sessionId,
      slots,
      modes: this.o.luaModes,
      ...(i.requestId !== undefined ? { requestId: i.requestId } : {}),
    });
    switch (out.outcome) {
      case "requested":
        return {
          outcome: "requested",
          backfillId: out.backfillId,
          sessionId: out.sessionId,
          region,
          mode: out.mode,
          slots: out.slots,
          requestedAtMs: out.requestedAt,
          ...(out.replacedBackfillId ? { replacedBackfillId: out.replacedBackfillId } : {}),
          ...(out.repeated ? { repeated: true } : {}),
        };
      case "sessionMismatch":
        return { outcome: "sessionMismatch", currentSessionId: out.currentSessionId };
      case "rejected":
        return { outcome: "rejected", error: out.error, detail: out.detail };
      default:
        return { outcome: out.outcome };
    }
  }

  /** Cancels the open request of the server's session (idempotent: "none" when there is none). */
  async cancel(i: { serverId: string; region?: string; sessionId?: string }): Promise<BackfillCancelResult> {
    const { serverId, sessionId } = BackfillDesk.ids(i?.serverId, i?.sessionId, false);
    const region = await this.regionOf(serverId, i.region);
    if (!region) return { outcome: "notFound" };
    const out = await this.o.run("cancelBackfill", region, { serverId, ...(sessionId ? { sessionId } : {}) });
    switch (out.outcome) {
      case "cancelled":
        return { outcome: "cancelled", backfillId: out.backfillId, sessionId: out.sessionId, region };
      case "none":
        return { outcome: "none", region };
      case "sessionMismatch":
        return { outcome: "sessionMismatch", currentSessionId: out.currentSessionId };
      default:
        return { outcome: "notFound" };
    }
  }

  /**
   * One pass over the region's open requests, oldest first: waiting tickets that fit join them. Loops over
   * capped script calls until every request was examined. The joins are in the outbox until confirmJoins.
   */
  async fill(region: string): Promise<BackfillFillResult> {
    region = this.regionOrThrow(region);
    const result: BackfillFillResult = { region, joins: [], completed: [], dropped: [] };
    let afterSeq = 0;
    const pool = this.o.latencyPool?.(region);
    for (let call = 0; call < FILL_MAX_CALLS; call++) {
      const out = await this.o.run("fillBackfills", region, {
        retentionMs: this.o.retentionMs,
        modes: this.o.luaModes,
        afterSeq,
        max: BACKFILL_CALL_LIMITS.requests,
        maxPlayers: BACKFILL_CALL_LIMITS.players,
        maxScan: BACKFILL_CALL_LIMITS.scan,
        ...(pool ? { pool } : {}),
      });
      for (const j of out.joins) result.joins.push(toJoin(j));
      result.completed.push(...out.completed);
      result.dropped.push(...out.dropped);
      // A call that stopped at its budget before examining anything past afterSeq still made progress
      // (joins); one that made none cannot make any by repeating itself.
      if (!out.more || (out.cursor <= afterSeq && out.joins.length === 0)) break;
      afterSeq = out.cursor;
    }
    return result;
  }

  /** Joins whose announcement was not confirmed within olderThanMs: re-stamped and returned for re-publishing. */
  async claimJoins(region: string, olderThanMs: number, max = 1000): Promise<BackfillJoin[]> {
    region = this.regionOrThrow(region);
    const claimed = new Map<string, BackfillJoin>();
    for (;;) {
      const out = await this.o.run("claimBackfillJoins", region, { olderThanMs, max: Math.min(BACKFILL_CALL_LIMITS.claims, max - claimed.size) });
      const fresh = out.joins.filter((j) => !claimed.has(j.joinId));
      for (const j of fresh) claimed.set(j.joinId, toJoin(j));
      if (!out.more || fresh.length < out.joins.length || claimed.size >= max) return [...claimed.values()];
    }
  }

  /** The announcements of these joins were sent: out of the outbox. */
  async confirmJoins(region: string, joinIds: string[]): Promise<void> {
    region = this.regionOrThrow(region);
    const ids = Array.isArray(joinIds) ? joinIds.filter((s) => typeof s === "string" && JOIN_ID_PATTERN.test(s)) : [];
    for (let i = 0; i < ids.length; i += BACKFILL_CALL_LIMITS.confirms) {
      await this.o.run("confirmBackfillJoins", region, { joinIds: ids.slice(i, i + BACKFILL_CALL_LIMITS.confirms) });
    }
  }
}
