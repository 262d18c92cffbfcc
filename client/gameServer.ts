/**
 * The game-server side: register into the pool, heartbeat on the lease, learn the allocation, confirm the
 * claim, release after the game. Game servers are trusted backends: every call carries the Functions
 * key (`x-functions-key`), which game clients must never have.
 *
 *   const server = new GameServer({ baseUrl, functionKey, serverId: "gs-1", address: "203.0.113.7:7777" });
 *   await server.register();                       // and heartbeats every leaseSeconds / 3 from now on
 *   const allocation = await server.waitForAllocation({ signal });   // acks the claim when it comes
 *   ... run the game with allocation.session.players ...
 *   // a player left mid-game: ask for a replacement (one request per session; a new one replaces it)
 *   const backfill = await server.requestBackfill(allocation.session.sessionId, 1);
 *   ... joined players show in server.allocation().session.players (and backfill.joined, if they were waiting) ...
 *   await server.release(allocation.session.sessionId);   // back to the pool, heartbeats go on
 *   await server.stop({ deregister: true });
 */
import { callJson, expectStatus, sleep, trimSlash, type FetchLike } from "./http";

export interface GameServerOptions {
  baseUrl: string;
  /** A function key of the matchmaker's function app. */
  functionKey: string;
  serverId: string;
  /** host:port players connect to. */
  address: string;
  region?: string;
  /** Called when a heartbeat fails (the lease may lapse if it keeps failing). */
  onHeartbeatError?: (err: unknown) => void;
  fetch?: FetchLike;
}

export interface ServerRecord {
  serverId: string;
  region: string;
  address: string;
  state: string;
  sessionId?: string;
  leaseExpiresAt: string;
  leaseSeconds?: number;
  outcome?: "registered" | "heartbeat";
  [field: string]: unknown;
}

export interface Allocation {
  server: ServerRecord;
  session?: { sessionId: string; mode: string; players: { playerId: string; ticketId: string }[]; assignedAt: string; [field: string]: unknown };
  /** The game's open backfill request: slots per team still to fill. */
  backfill?: { backfillId: string; slots: number[]; requestedAt: string };
}

/** An open backfill request (`POST /api/servers/{serverId}/backfill`). */
export interface Backfill {
  backfillId: string;
  sessionId: string;
  region: string;
  /** Free slots per team as requested. */
  slots: number[];
  requestedAt: string;
  replacedBackfillId?: string;
  /** A retry of the last request (same requestId): nothing changed. */
  repeated?: true;
  /** Players who were waiting and joined at once; later joins show in the allocation. */
  joined: { playerId: string; ticketId: string }[];
}

export class GameServer {
  private readonly fetch: FetchLike;
  private readonly base: string;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** The lease the matchmaker granted at the last heartbeat. */
  leaseSeconds = 30;
  region: string | undefined;

  constructor(private readonly opts: GameServerOptions) {
    this.fetch = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.base = trimSlash(opts.baseUrl);
    this.region = opts.region;
  }

  private url(suffix = ""): string {
    return `${this.base}/api/servers/${encodeURIComponent(this.opts.serverId)}${suffix}`;
  }

  private headers(): Record<string, string> {
    return { "x-functions-key": this.opts.functionKey };
  }

  /** Registers (or heartbeats) once and keeps heartbeating every third of the lease until stop(). */
  async register(): Promise<ServerRecord> {
    this.stopped = false;
    const record = await this.heartbeat();
    this.scheduleHeartbeat();
    return record;
  }

  /** One `PUT /api/servers/{serverId}`: registers, or renews the lease (and, per DESIGN, confirms a claim). */
  async heartbeat(): Promise<ServerRecord> {
    const body: Record<string, unknown> = { address: this.opts.address };
    if (this.region !== undefined) body.region = this.region;
    const answer = expectStatus(await callJson<ServerRecord>(this.fetch, this.url(), { method: "PUT", body, headers: this.headers() }), 200, 201);
    if (typeof answer.body.leaseSeconds === "number") this.leaseSeconds = answer.body.leaseSeconds;
    this.region = answer.body.region;
    return answer.body;
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(
      () => {
        this.heartbeat().then(
          () => this.scheduleHeartbeat(),
          (err: unknown) => {
            this.opts.onHeartbeatError?.(err);
            this.scheduleHeartbeat();
          },
        );
      },
      Math.max(500, (this.leaseSeconds * 1000) / 3),
    );
  }

  /** `GET /api/servers/{serverId}/allocation`: the session and players this server got, if any. */
  async allocation(): Promise<Allocation> {
    return expectStatus(await callJson<Allocation>(this.fetch, this.url("/allocation"), { method: "GET", headers: this.headers() }), 200).body;
  }

  /** `POST /api/servers/{serverId}/ack`: confirms the claim (of `sessionId`, if given) within the claim window. */
  async ack(sessionId?: string): Promise<unknown> {
    const body = sessionId !== undefined ? { sessionId } : undefined;
    return expectStatus(await callJson<unknown>(this.fetch, this.url("/ack"), { method: "POST", body, headers: this.headers() }), 200).body;
  }

  /** Polls the allocation until a session arrives, acks the claim, and returns it. */
  async waitForAllocation(o: { signal?: AbortSignal; pollMs?: number } = {}): Promise<Allocation & { session: NonNullable<Allocation["session"]> }> {
    for (;;) {
      if (o.signal?.aborted) throw new Error("waitForAllocation aborted");
      const a = await this.allocation();
      if (a.session) {
        await this.ack(a.session.sessionId);
        return a as Allocation & { session: NonNullable<Allocation["session"]> };
      }
      await sleep(o.pollMs ?? 500, o.signal);
    }
  }

  /** `POST /api/servers/{serverId}/release`: the game (`sessionId`, if given) is over, the server takes the next session. */
  async release(sessionId?: string): Promise<unknown> {
    const body = sessionId !== undefined ? { sessionId } : undefined;
    return expectStatus(await callJson<unknown>(this.fetch, this.url("/release"), { method: "POST", body, headers: this.headers() }), 200).body;
  }

  /**
   * `POST /api/servers/{serverId}/backfill`: the running game (`sessionId`) wants players: `slots` is a number
   * (one-team modes) or the free slots per team, e.g. `[0, 2]`. Replaces the session's open request. Joined
   * players are told this server like a new match and appear in allocation(); release, deregister and a lapsed
   * lease end the request. With `requestId` (yours, e.g. one per departure) a retry of the same request is
   * answered as before (`repeated`) and asks for nobody again.
   */
  async requestBackfill(sessionId: string, slots: number | number[], o: { requestId?: string } = {}): Promise<Backfill> {
    const body = { sessionId, slots, ...(o.requestId !== undefined ? { requestId: o.requestId } : {}) };
    return expectStatus(await callJson<Backfill>(this.fetch, this.url("/backfill"), { method: "POST", body, headers: this.headers() }), 200, 201).body;
  }

  /** `DELETE /api/servers/{serverId}/backfill`: no more players wanted. false when there was no open request. */
  async cancelBackfill(sessionId?: string): Promise<boolean> {
    const query = sessionId !== undefined ? `?sessionId=${encodeURIComponent(sessionId)}` : "";
    const answer = expectStatus(await callJson<unknown>(this.fetch, this.url(`/backfill${query}`), { method: "DELETE", headers: this.headers() }), 200, 404);
    return answer.status === 200;
  }

  /** Stops heartbeating; with `deregister`, leaves the pool (`DELETE /api/servers/{serverId}`). */
  async stop(o: { deregister?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    if (o.deregister) expectStatus(await callJson<unknown>(this.fetch, this.url(), { method: "DELETE", headers: this.headers() }), 200, 404);
  }
}
