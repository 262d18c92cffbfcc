/**
 * Helpers for store tests: a movable clock, a store on a fresh key prefix, direct Redis reads and the
 * invariant checker used after concurrent runs. Reads go through RedisConnection.command, routed by key,
 * so they work on a cluster too (all keys of a region share one hash slot).
 */
import { randomUUID } from "node:crypto";
import { createRedisConnection, MatchmakingStore, type RedisConnection, type MatchmakingStoreOptions } from "../../src/store";
import { regionKey, type LogicalKey } from "../../src/store/keys";
import { at } from "./at";

export type StoreTarget = { kind: "standalone"; url: string } | { kind: "cluster"; rootNodes: { url: string }[] };

export function connect(target: StoreTarget): Promise<RedisConnection> {
  return target.kind === "standalone"
    ? createRedisConnection({ mode: "standalone", url: target.url })
    : createRedisConnection({ mode: "cluster", rootNodes: target.rootNodes });
}

export class TestClock {
  constructor(public ms = Date.UTC(2026, 0, 1, 12)) {}
  now = (): number => this.ms;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

export const MODES = { duel: 2, squad: 4, solo: 1 };
export const REGION = "westeurope";

export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

export function makeStore(redis: RedisConnection, clock: TestClock, o: Partial<MatchmakingStoreOptions> = {}): MatchmakingStore {
  return new MatchmakingStore(redis, {
    prefix: o.prefix ?? uniquePrefix(),
    modes: o.modes ?? MODES,
    serverLeaseSeconds: o.serverLeaseSeconds ?? 30,
    ...(o.serverClaimSeconds !== undefined ? { serverClaimSeconds: o.serverClaimSeconds } : {}),
    ticketRetentionSeconds: o.ticketRetentionSeconds ?? 3600,
    clock: clock.now,
    ...(o.regions ? { regions: o.regions } : {}),
    ...(o.zones ? { zones: o.zones } : {}),
  });
}

/** The [field, value] pairs of a flat reply (HGETALL, ZRANGE ... WITHSCORES). */
function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([at(flat, i), at(flat, i + 1)]);
  return out;
}

/** Direct reads of one region's keys, bypassing the store's scripts. */
export class RawRegion {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    readonly region = REGION,
    /** region -> zone, when the region is in one (its keys carry the zone's hash tag). */
    private readonly zones: Readonly<Record<string, string>> = {},
  ) {}
  key(name: LogicalKey, id?: string): string {
    return regionKey(this.prefix, this.region, name, id, this.zones);
  }
  /** `command key ...rest` against this region's key `name` (`id`). */
  cmd<T>(name: LogicalKey, id: string | undefined, [command, ...rest]: [string, ...string[]]): Promise<T> {
    const k = this.key(name, id);
    return this.redis.command<T>(k, [command, k, ...rest]);
  }
  async hash(name: LogicalKey, id?: string): Promise<Record<string, string>> {
    return Object.fromEntries(pairs(await this.cmd<string[]>(name, id, ["HGETALL"])));
  }
  members(name: LogicalKey, id?: string): Promise<string[]> {
    return this.cmd<string[]>(name, id, ["SMEMBERS"]).then((m) => [...m].sort());
  }
  /** A session's members: its fields `@<playerId>` (sorted). */
  async sessionMembers(sid: string): Promise<string[]> {
    return sessionMembersOf(await this.hash("Session", sid));
  }
  /**
   * The logical PlayersTimeStartedMatchmaking: every member of an open or ready session -> its wait start
   * (the member field's "<ticketId> <waitStart>").
   */
  async waitStarts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const seq = Number((await this.get("SessionSeq")) ?? 0);
    for (let i = 1; i <= seq; i++) {
      const h = await this.hash("Session", `${this.region}.${i}`);
      if (h.state !== "open" && h.state !== "ready") continue;
      for (const [pid, at] of memberWaits(h)) out.set(pid, at);
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  /**
   * A player's record as the logical schema has it (as readPlayer shows it): only `left` is stored; a
   * record in an open or ready session is `waiting`, one whose session is assigned or ended (Match:<sid>
   * kept) is `matched`, with server, address, assignedAt (and
   * lostAt) of the assignment.
   */
  async player(pid: string): Promise<Record<string, string>> {
    const p = await this.hash("Player", pid);
    if ((p.state !== undefined && p.state !== "waiting") || p.session === undefined) return p;
    const st = (await this.hash("Session", p.session)).state;
    if (st === "open" || st === "ready") return { ...p, state: "waiting" };
    const m = await this.get("Match", p.session);
    if (m === null) return { ...p, state: "matched" };
    const a = JSON.parse(m) as { serverId: string; address: string; assignedAt: number; lostAt?: number };
    return {
      ...p,
      state: "matched",
      server: a.serverId,
      address: a.address,
      assignedAt: String(a.assignedAt),
      ...(a.lostAt !== undefined ? { lostAt: String(a.lostAt) } : {}),
    };
  }
  async zset(name: LogicalKey, id?: string): Promise<Map<string, number>> {
    const flat = await this.cmd<string[]>(name, id, ["ZRANGE", "0", "-1", "WITHSCORES"]);
    return new Map(pairs(flat).map(([member, score]) => [member, Number(score)]));
  }
  async zmembers(name: LogicalKey, id?: string): Promise<string[]> {
    return [...(await this.zset(name, id)).keys()];
  }
  async exists(name: LogicalKey, id?: string): Promise<boolean> {
    return (await this.cmd<number>(name, id, ["EXISTS"])) === 1;
  }
  async pttl(name: LogicalKey, id?: string): Promise<number> {
    return this.cmd<number>(name, id, ["PTTL"]);
  }
  async get(name: LogicalKey, id?: string): Promise<string | null> {
    return this.cmd<string | null>(name, id, ["GET"]);
  }
}

/** The member ids of a session hash (its fields `@<playerId>`), sorted. */
export function sessionMembersOf(h: Record<string, string>): string[] {
  return Object.keys(h)
    .filter((k) => k.startsWith("@"))
    .map((k) => k.slice(1))
    .sort();
}

/** The wait start of each member of a session hash (its fields `@<playerId>` = "<ticketId> <waitStart>"). */
export function memberWaits(h: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(h)) if (k.startsWith("@")) out.set(k.slice(1), Number(v.split(" ")[1]));
  return out;
}

/** `m.get(key)`; no entry when the record lacks the field the key comes from. */
function lookup<V>(m: Map<string, V>, key: string | undefined): V | undefined {
  return key === undefined ? undefined : m.get(key);
}

/**
 * Checks every consistency rule of the data model by reading Redis directly. Returns the list of
 * violations (empty = consistent). `playerIds`: every player id the test ever used.
 */
export async function checkInvariants(raw: RawRegion, modes: Record<string, number>, playerIds: Iterable<string>): Promise<string[]> {
  const bad: string[] = [];
  const seq = Number((await raw.get("SessionSeq")) ?? 0);
  const sessions = new Map<string, { h: Record<string, string>; players: string[] }>();
  for (let i = 1; i <= seq; i++) {
    const sid = `${raw.region}.${i}`;
    const h = await raw.hash("Session", sid);
    const players = sessionMembersOf(h);
    if (!h.state) {
      if (players.length) bad.push(`deleted session ${sid} still has members ${players}`);
      continue;
    }
    sessions.set(sid, { h, players });
  }
  const open = new Map<string, Set<string>>();
  for (const mode of Object.keys(modes)) open.set(mode, new Set(await raw.zmembers("SessionsPerMatchmaking", mode)));
  const ready = new Set(await raw.zmembers("SessionsReady"));
  const creation = new Set(await raw.zmembers("SessionsCreationTime"));
  const announcing = new Set(await raw.zmembers("SessionsAnnouncing"));
  const serversRaw = await raw.hash("Servers");
  const servers = new Map(Object.entries(serversRaw).map(([id, j]) => [id, JSON.parse(j) as { state: string; sessionId?: string; address: string }]));
  const available = new Set(await raw.zmembers("ServersAvailable"));
  const leases = new Set(await raw.zmembers("ServerLeases"));
  const waitingIndex = await raw.zset("SessionsWaitingSince");
  const waitingPerMode = await raw.hash("WaitingPerMode");
  const readyPerMode = await raw.hash("ReadyPerMode");

  const memberOf = new Map<string, string>();
  let openReadySlots = 0;
  const openReadyByMode: Record<string, number> = {};
  for (const [sid, { h, players }] of sessions) {
    const size = Number(h.size);
    // Backfill joins (issue 14) add players to a running game beyond its size: `joined` counts them.
    const cap = Number(h.capacity) + Number(h.joined ?? 0);
    if (size !== players.length) bad.push(`session ${sid}: size ${size} != ${players.length} members`);
    if (players.length > cap) bad.push(`session ${sid}: ${players.length} players over capacity ${cap}`);
    for (const p of players) {
      if (memberOf.has(p)) bad.push(`player ${p} in two sessions ${memberOf.get(p)} and ${sid}`);
      memberOf.set(p, sid);
    }
    const inOpen = lookup(open, h.mode)?.has(sid) ?? false;
    const state = h.state;
    if (state === "open") {
      if (!inOpen) bad.push(`open session ${sid} not in SessionsPerMatchmaking:${h.mode}`);
      if (size >= cap) bad.push(`open session ${sid} is full (${size}/${cap})`);
      if (size === 0) bad.push(`open session ${sid} is empty but not deleted`);
    } else if (inOpen) bad.push(`${state} session ${sid} is in SessionsPerMatchmaking`);
    if (state === "ready") {
      if (!ready.has(sid)) bad.push(`ready session ${sid} not in SessionsReady`);
      if (size !== cap) bad.push(`ready session ${sid} has ${size}/${cap}`);
    } else if (ready.has(sid)) bad.push(`${state} session ${sid} in SessionsReady`);
    for (const [k, v] of Object.entries(h)) if (k.startsWith("@") && !/^\S+ \d+$/.test(v)) bad.push(`session ${sid}: member ${k} = "${v}"`);
    if (state === "open" || state === "ready") {
      const waits = [...memberWaits(h).values()];
      const since = waits.length ? Math.min(...waits) : undefined;
      if (waitingIndex.get(sid) !== since) bad.push(`${state} session ${sid}: SessionsWaitingSince ${waitingIndex.get(sid)}, earliest member ${since}`);
      if (!creation.has(sid)) bad.push(`${state} session ${sid} not in SessionsCreationTime`);
      if (h.server) bad.push(`${state} session ${sid} has a server ${h.server}`);
      openReadySlots += size;
      const mode = h.mode ?? "?";
      openReadyByMode[mode] = (openReadyByMode[mode] ?? 0) + size;
    } else if (creation.has(sid)) bad.push(`${state} session ${sid} in SessionsCreationTime`);
    if (state === "assigned") {
      const srv = lookup(servers, h.server);
      if (!srv) bad.push(`assigned session ${sid} has unknown server ${h.server}`);
      else if (srv.state !== "allocated" || srv.sessionId !== sid) bad.push(`assigned session ${sid}: server ${h.server} is ${srv.state}/${srv.sessionId}`);
      if ((await raw.get("Match", sid)) === null) bad.push(`assigned session ${sid} has no Match`);
    } else if (announcing.has(sid)) bad.push(`${state} session ${sid} in SessionsAnnouncing`);
    if (state === undefined || !["open", "ready", "assigned"].includes(state)) bad.push(`session ${sid} has state ${state}`);
  }
  for (const [mode, set] of open)
    for (const sid of set)
      if (sessions.get(sid)?.h.state !== "open" || sessions.get(sid)?.h.mode !== mode)
        bad.push(`SessionsPerMatchmaking:${mode} holds ${sid} (${sessions.get(sid)?.h.state ?? "deleted"})`);
  for (const sid of ready) if (sessions.get(sid)?.h.state !== "ready") bad.push(`SessionsReady holds ${sid} (${sessions.get(sid)?.h.state ?? "deleted"})`);
  const readyByMode: Record<string, number> = {};
  for (const sid of ready) {
    const mode = sessions.get(sid)?.h.mode ?? "?";
    readyByMode[mode] = (readyByMode[mode] ?? 0) + 1;
  }
  for (const mode of new Set([...Object.keys(readyByMode), ...Object.keys(readyPerMode)])) {
    if (Number(readyPerMode[mode] ?? 0) !== (readyByMode[mode] ?? 0))
      bad.push(`ReadyPerMode ${mode} = ${readyPerMode[mode] ?? 0} but SessionsReady holds ${readyByMode[mode] ?? 0}`);
  }
  for (const sid of creation) if (!sessions.has(sid)) bad.push(`SessionsCreationTime holds deleted ${sid}`);
  for (const sid of waitingIndex.keys()) {
    const st = sessions.get(sid)?.h.state;
    if (st !== "open" && st !== "ready") bad.push(`SessionsWaitingSince holds ${sid} (${st ?? "deleted"})`);
  }
  for (const sid of announcing) if (sessions.get(sid)?.h.state !== "assigned") bad.push(`SessionsAnnouncing holds ${sid}`);

  const serverOfSession = new Map<string, string>();
  for (const [id, s] of servers) {
    if (!leases.has(id)) bad.push(`server ${id} has no lease`);
    if (s.state === "available") {
      if (!available.has(id)) bad.push(`available server ${id} not in ServersAvailable`);
      if (s.sessionId) bad.push(`available server ${id} has session ${s.sessionId}`);
    } else if (s.state === "allocated") {
      if (available.has(id)) bad.push(`allocated server ${id} in ServersAvailable`);
      const sess = s.sessionId ? sessions.get(s.sessionId) : undefined;
      if (!sess || sess.h.state !== "assigned" || sess.h.server !== id)
        bad.push(`allocated server ${id}: session ${s.sessionId} is ${sess?.h.state ?? "missing"}/${sess?.h.server}`);
      if (s.sessionId && serverOfSession.has(s.sessionId)) bad.push(`session ${s.sessionId} has two servers`);
      if (s.sessionId) serverOfSession.set(s.sessionId, id);
    } else bad.push(`server ${id} has state ${s.state}`);
  }
  for (const id of available) if (!servers.has(id)) bad.push(`ServersAvailable holds unknown ${id}`);
  for (const id of leases) if (!servers.has(id)) bad.push(`ServerLeases holds unknown ${id}`);

  let waiting = 0;
  for (const pid of new Set(playerIds)) {
    const p = await raw.player(pid);
    const sid = memberOf.get(pid);
    if (sid !== undefined) {
      const ticket = sessions.get(sid)?.h[`@${pid}`]?.split(" ")[0];
      if (ticket !== p.ticketId) bad.push(`member ${pid} of ${sid} joined with ticket ${ticket}, its record has ${p.ticketId}`);
      if (p.session !== sid) bad.push(`member ${pid} of ${sid}: its record names session ${p.session}`);
      if ((await raw.pttl("Player", pid)) !== -1) bad.push(`member ${pid} of ${sid} has a TTL`);
    }
    if (!p.state) {
      if (sid) bad.push(`player ${pid} without record is in session ${sid}`);
      continue;
    }
    if (p.state === "waiting") {
      waiting++;
      const st = lookup(sessions, p.session)?.h.state;
      if (sid !== p.session || (st !== "open" && st !== "ready")) bad.push(`waiting player ${pid}: record says ${p.session}, member of ${sid} (${st})`);
    } else if (p.state === "matched") {
      const s = lookup(sessions, p.session);
      if (s && (s.h.state !== "assigned" || sid !== p.session)) bad.push(`matched player ${pid}: session ${p.session} is ${s.h.state}, member of ${sid}`);
      if (!s && sid) bad.push(`matched player ${pid} of ended session ${p.session} is member of ${sid}`);
      if (!p.server || !p.address) bad.push(`matched player ${pid} without server/address`);
    } else if (p.state === "left") {
      if (sid) bad.push(`left player ${pid} is member of ${sid}`);
    } else bad.push(`player ${pid} has state ${p.state}`);
  }
  if (waiting !== openReadySlots) bad.push(`slot leak: ${waiting} waiting players but ${openReadySlots} occupied open/ready slots`);
  for (const mode of Object.keys(modes)) {
    const counted = Number(waitingPerMode[mode] ?? 0);
    if (counted !== (openReadyByMode[mode] ?? 0)) bad.push(`WaitingPerMode ${mode} = ${counted} but ${openReadyByMode[mode] ?? 0} waiting`);
  }
  return bad;
}

/**
 * A full logical dump of every key of one key prefix: `key -> TYPE, PEXPIRETIME (absolute expiry, stable
 * while time passes) and the whole value`, sorted by key. Two dumps are equal exactly
 * when Redis holds the same data. On a cluster it reads the slot of `region` (all keys of a region live
 * there; the region-less dead-letter streams are left out); standalone scans the whole prefix.
 */
export async function dumpPrefix(redis: RedisConnection, prefix: string, region = REGION): Promise<Record<string, string>> {
  const anchor = regionKey(prefix, region, "SessionSeq");
  let keys: string[];
  if (redis.mode === "cluster") {
    const slot = await redis.command<number>(anchor, ["CLUSTER", "KEYSLOT", anchor]);
    keys = await redis.command<string[]>(anchor, ["CLUSTER", "GETKEYSINSLOT", String(slot), "1000000"]);
    keys = keys.filter((k) => k.startsWith(`${prefix}:`));
  } else {
    keys = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.command<[string, string[]]>(anchor, ["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"]);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
  }
  const out: Record<string, string> = {};
  for (const k of [...new Set(keys)].sort()) {
    const [type, expireAt] = await Promise.all([redis.command<string>(k, ["TYPE", k]), redis.command<number>(k, ["PEXPIRETIME", k])]);
    out[k] = `${type} ${expireAt} ${JSON.stringify(await logicalValue(redis, k, type))}`;
  }
  return out;
}

/**
 * A key's value, independent of its encoding (DUMP is not: a hashtable's serialization follows its bucket
 * order, which incremental rehashing changes on reads). Hash fields and set members sorted.
 */
async function logicalValue(redis: RedisConnection, k: string, type: string): Promise<unknown> {
  switch (type) {
    case "string":
      return redis.command<string>(k, ["GET", k]);
    case "hash":
      return pairs(await redis.command<string[]>(k, ["HGETALL", k])).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    case "set":
      return (await redis.command<string[]>(k, ["SMEMBERS", k])).sort();
    case "zset":
      return redis.command<string[]>(k, ["ZRANGE", k, "0", "-1", "WITHSCORES"]);
    case "list":
      return redis.command<string[]>(k, ["LRANGE", k, "0", "-1"]);
    case "stream":
      return redis.command<unknown>(k, ["XRANGE", k, "-", "+"]);
    default:
      return redis.command<string | null>(k, ["DUMP", k]);
  }
}
