/**
 * The game-server pool: register/heartbeat, ack, release, deregister, expiry and reads, over the region
 * scripts (a server's record lives in its region's hash slot, where assignSessions allocates it) and the
 * global server index (its own slot: where each serverId lives and which server holds each address).
 *
 * One call here is at most a few script calls, each one atomic step on one slot. The order of the steps
 * is what keeps a serverId in one region and an address with one live server (src/store/README.md,
 * "Game servers are global"): claim in the index first, retire what the claim displaced, only then write
 * the region record; remove a region record (fencing its token) first, only then forget it in the index.
 */
import { validateAddress, validateId, validateRegion } from "../domain/validation";
import type { RedisConnection } from "./connection";
import { KEY, regionKey, regionPrefix, routingKey, SERVER_INDEX, serverIndexKey, serverIndexPrefix, type Zones } from "./keys";
import { SCRIPT_REPLIES, serverIndexEntry, serverReply, type ScriptName, type ScriptReply, type ServerReply } from "./replies";
import { decodeReply, type Decoder } from "./replyDecoder";
import { loadScripts } from "./scriptLoader";
import { scriptInputError, StoreInputError } from "./storeInputError";
import type { AckResult, DeregisterResult, ExpiredServer, ExpireServersResult, RegisterResult, ReleaseResult, ServerAllocation, ServerRecord } from "./types";

export interface ServerPoolOptions {
  prefix: string;
  serverLeaseSeconds: number;
  serverClaimSeconds: number;
  regions?: readonly string[];
  /** region -> zone (issue 14): a zone's regions share its hash slot (keys.ts). */
  zones?: Zones;
  clock: () => number;
}

/** `<region>.<sequence>` as created by enqueuePlayers.lua. */
export const SESSION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}\.[0-9]{1,15}$/;

/** Work per expireServers call: servers retired, and players requeued or marked lost (the caller loops). */
export const EXPIRE_MAX_SERVERS = 100;
export const EXPIRE_MAX_PLAYERS = 200;
/** A register that keeps meeting fenced claims gives up after this many fresh claims (only a storm of concurrent calls for one id). */
const REGISTER_ATTEMPTS = 4;
/** Safety bound of the expiry loop (each call is capped; this only stops a runaway loop). */
const EXPIRE_MAX_CALLS = 10_000;

/** A region record displaced by a claim (moved, taken over) or removed from its region: the index forgets it by token. */
export interface ServerToken {
  serverId: string;
  region: string;
  token: number;
  address: string;
}

export function toServer(region: string, serverId: string, s: ServerReply): ServerRecord {
  return {
    serverId,
    region,
    address: s.address,
    state: s.state,
    ...(s.sessionId ? { sessionId: s.sessionId } : {}),
    registeredAtMs: s.registeredAt,
    lastHeartbeatMs: s.lastHeartbeat,
    leaseExpiresAtMs: s.leaseExpiresAt,
    gamesServed: s.gamesServed,
    ...(s.state === "allocated" && s.claimExpiresAt !== undefined && s.confirmedAt === undefined ? { claimExpiresAtMs: s.claimExpiresAt } : {}),
    ...(s.state === "allocated" && s.confirmedAt !== undefined ? { confirmedAtMs: s.confirmedAt } : {}),
  };
}

export class ServerPool {
  private readonly scripts = loadScripts();

  constructor(
    private readonly redis: RedisConnection,
    private readonly opts: ServerPoolOptions,
  ) {}

  private now(): number {
    return Math.floor(this.opts.clock());
  }

  private get leaseMs(): number {
    return this.opts.serverLeaseSeconds * 1000;
  }

  private get claimMs(): number {
    return this.opts.serverClaimSeconds * 1000;
  }

  private async call<N extends ScriptName>(name: N, key: string, prefixArg: string, payload: Record<string, unknown>): Promise<ScriptReply<N>> {
    const script = this.scripts[name];
    let raw: unknown;
    try {
      raw = await this.redis.runScript(key, script.sha, script.body, [key], [prefixArg, JSON.stringify(payload)]);
    } catch (err) {
      throw scriptInputError(err) ?? err;
    }
    return decodeReply(name, SCRIPT_REPLIES[name] as Decoder<ScriptReply<N>>, raw);
  }

  /** Runs a script on a region's slot; `args` is merged into {now, region} (ARGV[2], JSON). */
  private runRegion<N extends ScriptName>(name: N, region: string, args: Record<string, unknown>, now = this.now()): Promise<ScriptReply<N>> {
    return this.call(name, routingKey(this.opts.prefix, region, this.opts.zones), regionPrefix(this.opts.prefix, region, this.opts.zones), {
      now,
      region,
      ...args,
    });
  }

  /** Runs a script on the global server index's slot. */
  private runIndex<N extends ScriptName>(name: N, args: Record<string, unknown>, now = this.now()): Promise<ScriptReply<N>> {
    return this.call(name, serverIndexKey(this.opts.prefix, SERVER_INDEX.Where), serverIndexPrefix(this.opts.prefix), { now, ...args });
  }

  private regionOrThrow(value: unknown): string {
    const r = validateRegion(value, this.opts.regions);
    if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    return r.value;
  }

  private idOrThrow(value: unknown): string {
    const r = validateId("serverId", value);
    if (!r.ok) throw new StoreInputError(r.error.error, r.error.detail);
    return r.value;
  }

  private sessionIdOrThrow(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !SESSION_ID_PATTERN.test(value)) {
      throw new StoreInputError("invalid_sessionId", "sessionId must look like <region>.<number>, as given in match-made");
    }
    return value;
  }

  /** The region a server lives in (the global index), or null when it is not registered. */
  async locate(serverId: string): Promise<string | null> {
    const id = this.idOrThrow(serverId);
    const key = serverIndexKey(this.opts.prefix, SERVER_INDEX.Where);
    const raw = await this.redis.command<string | null>(key, ["HGET", key, id], true);
    if (raw === null) return null;
    return decodeReply("HGET Where", serverIndexEntry, raw).region;
  }

  /** The given region (validated), else where the server lives; null when it lives nowhere. */
  private async regionOf(serverId: string, region: string | undefined): Promise<string | null> {
    if (region !== undefined) return this.regionOrThrow(region);
    return this.locate(serverId);
  }

  /**
   * Register, or renew the lease (heartbeat). Without `region` a known server is found where it lives and
   * a new one goes to `defaultRegion`. A heartbeat of an allocated, unconfirmed server confirms its claim.
   * Bad input is answered "rejected", not thrown.
   */
  async register(i: { serverId: string; address: string; region?: string; defaultRegion?: string }): Promise<RegisterResult> {
    const serverId = validateId("serverId", i?.serverId);
    if (!serverId.ok) return { outcome: "rejected", ...serverId.error };
    const address = validateAddress(i.address);
    if (!address.ok) return { outcome: "rejected", ...address.error };
    let region: string | undefined;
    if (i.region !== undefined) {
      const r = validateRegion(i.region, this.opts.regions);
      if (!r.ok) return { outcome: "rejected", ...r.error };
      region = r.value;
    }
    let defaultRegion: string | undefined;
    if (i.defaultRegion !== undefined) {
      const r = validateRegion(i.defaultRegion, this.opts.regions);
      if (!r.ok) return { outcome: "rejected", ...r.error };
      defaultRegion = r.value;
    }
    if (!region && !defaultRegion) return { outcome: "rejected", error: "missing_region", detail: "a new server needs a region (or a default region)" };

    for (let attempt = 0; attempt < REGISTER_ATTEMPTS; attempt++) {
      const now = this.now();
      // Step 1 (index): claim the id and the address, learn the region and the claim token.
      const claim = await this.runIndex(
        "claimServer",
        {
          serverId: serverId.value,
          address: address.value,
          leaseMs: this.leaseMs,
          ...(region ? { region } : {}),
          ...(defaultRegion ? { defaultRegion } : {}),
        },
        now,
      );
      if (claim.outcome === "rejected") {
        return {
          outcome: "rejected",
          error: claim.error,
          detail: claim.detail,
          ...(claim.heldBy !== undefined ? { heldBy: claim.heldBy } : {}),
          ...(claim.region !== undefined ? { region: claim.region } : {}),
          ...(claim.retryAfterMs !== undefined ? { retryAfterMs: claim.retryAfterMs } : {}),
        };
      }
      const home = claim.region;
      // Step 2 (regions): the records this claim displaced are retired, each fenced by its token, before ...
      if (claim.retire.length) {
        for (const d of claim.retire) await this.runRegion("retireServer", d.region, { serverId: d.serverId, token: d.token });
        await this.forget(claim.retire, { serverId: serverId.value, token: claim.token });
      }
      // ... step 3 (home region): the record is written, only under this claim's token.
      const out = await this.runRegion(
        "registerServer",
        home,
        { serverId: serverId.value, address: address.value, token: claim.token, leaseExpiresAt: claim.leaseExpiresAt },
        now,
      );
      switch (out.outcome) {
        case "fenced":
          // The region retired this token (expiry, claim window, deregister) after the index handed it out:
          // drop the stale claim and take a fresh one.
          await this.forget([{ serverId: serverId.value, region: home, token: claim.token, address: address.value }]);
          continue;
        case "rejected":
          return { outcome: "rejected", error: out.error, detail: out.detail };
        case "registered":
          return { outcome: "registered", server: toServer(home, serverId.value, out.server) };
        case "heartbeat":
          return {
            outcome: "heartbeat",
            server: toServer(home, serverId.value, out.server),
            ...(out.confirmedSessionId ? { confirmedSessionId: out.confirmedSessionId } : {}),
          };
      }
    }
    throw new Error(`registerServer ${serverId.value}: the claim was fenced ${REGISTER_ATTEMPTS} times in a row (concurrent registrations of one id)`);
  }

  /**
   * The index forgets records that no longer exist in their region (compare-and-delete by token, so a newer
   * claim is never forgotten). `claimant`: the retire tasks of that claim are done.
   */
  async forget(items: ServerToken[], claimant?: { serverId: string; token: number }): Promise<void> {
    for (let i = 0; i < items.length || (i === 0 && claimant); i += EXPIRE_MAX_SERVERS) {
      const chunk = items.slice(i, i + EXPIRE_MAX_SERVERS).map((x) => ({ serverId: x.serverId, token: x.token, address: x.address }));
      const last = i + EXPIRE_MAX_SERVERS >= items.length;
      await this.runIndex("forgetServers", { items: chunk, ...(claimant && last ? { claimant } : {}) });
    }
  }

  /** The game is over: end the session, server back to the pool. Throws StoreInputError on bad input. */
  async release(i: { serverId: string; region?: string; sessionId?: string }): Promise<ReleaseResult> {
    const serverId = this.idOrThrow(i?.serverId);
    const sessionId = this.sessionIdOrThrow(i.sessionId);
    const region = await this.regionOf(serverId, i.region);
    if (!region) return { outcome: "notFound" };
    const out = await this.runRegion("releaseServer", region, { serverId, ...(sessionId ? { sessionId } : {}) });
    if (out.outcome === "notFound") return { outcome: "notFound" };
    const server = toServer(region, serverId, out.server);
    if (out.outcome === "released") return { outcome: "released", server, endedSessionId: out.endedSessionId };
    return { outcome: out.outcome, server };
  }

  /** The server confirms the session it was claimed for (POST /ack). Throws StoreInputError on bad input. */
  async ack(i: { serverId: string; region?: string; sessionId?: string }): Promise<AckResult> {
    const serverId = this.idOrThrow(i?.serverId);
    const sessionId = this.sessionIdOrThrow(i.sessionId);
    const region = await this.regionOf(serverId, i.region);
    if (!region) return { outcome: "notFound" };
    const out = await this.runRegion("ackServer", region, { serverId, ...(sessionId ? { sessionId } : {}) });
    if (out.outcome === "notFound") return { outcome: "notFound" };
    const server = toServer(region, serverId, out.server);
    if (out.outcome === "confirmed" || out.outcome === "alreadyConfirmed") return { outcome: out.outcome, server, sessionId: out.sessionId };
    return { outcome: out.outcome, server };
  }

  /** The server leaves the pool; if allocated, its session ends. Throws StoreInputError on bad input. */
  async deregister(i: { serverId: string; region?: string }): Promise<DeregisterResult> {
    const serverId = this.idOrThrow(i?.serverId);
    const region = await this.regionOf(serverId, i.region);
    if (!region) return { outcome: "notFound" };
    const out = await this.runRegion("deregisterServer", region, { serverId });
    if (out.outcome === "notFound") return { outcome: "notFound" };
    // The region fenced the token first; only now may the index forget the server.
    await this.forget([{ serverId, region, token: out.token, address: out.address }]);
    return { outcome: "removed", region, ...(out.endedSessionId ? { endedSessionId: out.endedSessionId } : {}) };
  }

  /**
   * Removes servers whose lease ran out or whose claim window passed unconfirmed: a session not yet confirmed
   * goes back to the FRONT of the ready queue with fresh deadlines, a confirmed one ends as lost. Each script
   * call does bounded work (`maxServers` servers, about `maxPlayers` players); this loops until nothing is due.
   */
  async expire(region: string, o: { maxServers?: number; maxPlayers?: number } = {}): Promise<ExpireServersResult> {
    region = this.regionOrThrow(region);
    const result: ExpireServersResult = { region, expired: [], requeuedSessions: [], lostSessions: [] };
    const maxServers = Math.min(1000, Math.max(1, Math.floor(o.maxServers ?? EXPIRE_MAX_SERVERS)));
    const maxPlayers = Math.min(100_000, Math.max(1, Math.floor(o.maxPlayers ?? EXPIRE_MAX_PLAYERS)));
    for (let call = 0; call < EXPIRE_MAX_CALLS; call++) {
      const out = await this.runRegion("expireServers", region, { maxServers, maxPlayers });
      await this.forget(out.expired.map((e) => ({ serverId: e.serverId, region, token: e.token, address: e.address })));
      for (const e of out.expired) {
        const entry: ExpiredServer = { serverId: e.serverId, wasAllocated: e.wasAllocated, reason: e.reason };
        if (e.sessionId) entry.sessionId = e.sessionId;
        if (e.session) entry.session = e.session;
        result.expired.push(entry);
        if (e.sessionId && e.session === "requeued") result.requeuedSessions.push(e.sessionId);
        if (e.sessionId && e.session === "lost") result.lostSessions.push(e.sessionId);
      }
      if (!out.more) break;
    }
    return result;
  }

  /** A server and, while allocated, its session. Without region: where it lives. */
  async get(region: string | undefined, serverId: string): Promise<ServerAllocation | null> {
    serverId = this.idOrThrow(serverId);
    const where = await this.regionOf(serverId, region);
    if (!where) return null;
    const out = await this.runRegion("readServer", where, { serverId });
    if (!out.found || !out.server) return null;
    const server = toServer(where, serverId, out.server);
    if (!out.assignment) return { server };
    const a = out.assignment;
    const players = a.players.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId }));
    const session = { sessionId: a.sessionId, mode: a.mode, players, assignedAtMs: a.assignedAt };
    if (!out.backfill) return { server, session };
    const slots = out.backfill.slots.split(",").map(Number);
    return { server, session, backfill: { backfillId: out.backfill.backfillId, slots, requestedAtMs: out.backfill.requestedAt } };
  }

  async list(region: string): Promise<ServerRecord[]> {
    region = this.regionOrThrow(region);
    const key = regionKey(this.opts.prefix, region, KEY.Servers, undefined, this.opts.zones);
    const flat = await this.redis.command<string[]>(key, ["HGETALL", key], true);
    const list: ServerRecord[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) list.push(toServer(region, flat[i]!, decodeReply("HGETALL Servers", serverReply, flat[i + 1])));
    return list.sort((a, b) => (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0));
  }

  /** The claim window assignSessions gives each server it allocates. */
  get claimWindowMs(): number {
    return this.claimMs;
  }
}
