/**
 * `findMatch`: a game client's whole matchmaking call. Creates the ticket, listens for the outcome over
 * Azure Web PubSub (`GET /api/tickets/{playerId}/negotiate` → client URL → the reliable JSON subprotocol of
 * @azure/web-pubsub-client), and reads the ticket status endpoint as the fallback:
 *
 * - once as soon as the push connection is up: Web PubSub delivers to a user's connections only, so an
 *   outcome pushed before the player connected is read here (a late connection loses nothing);
 * - every `pushSafetyPollMs` (default 15 s) while push is connected, as a safety net;
 * - at the server's `Retry-After` (else `pollIntervalMs`, default 1 s) while push is off or down.
 *
 * Aborting `signal` cancels the ticket (DELETE). The promise resolves to the outcome in every case the
 * matchmaker decided — matched (also when the cancel lost the race to a match), timedOut, cancelled,
 * serverLost — and rejects only when the matchmaker refuses the ticket or cannot be reached.
 */
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { callJson, expectStatus, MatchmakerError, retryAfterMs, sleep, trimSlash, type FetchLike } from "./http";
import { measureLatencies, type LatencyOptions } from "./latency";

export type TicketState = "searching" | "matched" | "timedOut" | "cancelled" | "serverLost";
export type FinalState = Exclude<TicketState, "searching">;
const FINAL_STATES: readonly string[] = ["matched", "timedOut", "cancelled", "serverLost"];

/** The ticket as `GET /api/tickets/{playerId}` answers it (and as push messages carry it). */
export interface TicketStatus {
  playerId: string;
  ticketId: string;
  status: TicketState;
  mode?: string;
  region?: string;
  sessionId?: string;
  serverId?: string;
  /** host:port of the game server, when matched. */
  server?: string;
  players?: { playerId: string; ticketId: string }[];
  [field: string]: unknown;
}

export interface CreatedTicket {
  ticketId: string;
  playerId: string;
  token: string;
  ticketUri: string;
  statusQueryGetUri?: string;
  /** The push client URL, when the matchmaker hands it out with the ticket (then no negotiate call is needed). */
  pushUrl?: string;
}

export interface MatchOutcome {
  status: FinalState;
  ticket: TicketStatus;
  /** How the outcome arrived. */
  via: "push" | "poll" | "cancel";
  /** Status reads this call made (the cost push saves). */
  statusReads: number;
  /** Whether a push connection was up when the outcome arrived. */
  pushConnected: boolean;
  /** When the session got its server (ISO), when the outcome came by push. */
  assignedAt?: string;
}

export interface FindMatchOptions {
  /** The matchmaker's origin, e.g. `https://mm.example.com` or `http://localhost:7071`. */
  baseUrl: string;
  playerId: string;
  mode?: string;
  region?: string;
  skill?: number;
  /** Further ticket fields the matchmaker accepts (party, latencies, ...), sent as they are. */
  ticketFields?: Record<string, unknown>;
  /**
   * Region -> that region's matchmaker origin (its `GET /api/ping`), e.g. `{ westeurope: "https://mm-weu...",
   * northeurope: "https://mm-neu..." }`. Given, findMatch first measures the latency to each (measureLatencies:
   * the median of `latency.samples` probes, each bounded by `latency.timeoutMs`) and sends `latencies` with the
   * ticket; a region that did not answer is left out, and when none answered the ticket goes without latencies.
   */
  regionUrls?: Record<string, string>;
  /** How the latencies are measured (defaults of measureLatencies: 5 probes, the first a warm-up, 2000 ms each). */
  latency?: Pick<LatencyOptions, "samples" | "timeoutMs" | "gapMs">;
  /** Called with the latencies measured (before the ticket is created). */
  onLatencies?: (latencies: Record<string, number>) => void;
  /** Cancels the ticket when aborted. */
  signal?: AbortSignal;
  /** Extra request headers (e.g. `Authorization: Bearer <player JWT>` with PLAYER_AUTH=jwt on ticket creation). */
  headers?: Record<string, string>;
  /** Default true: listen for push; false polls only. */
  push?: boolean;
  /** Poll interval when the server sends no Retry-After (default 1000 ms). */
  pollIntervalMs?: number;
  /** Poll interval while push is connected (default 15000 ms). */
  pushSafetyPollMs?: number;
  /** Called with the created ticket (its token reads or cancels it later). */
  onTicket?: (ticket: CreatedTicket) => void;
  /** Called when the push connection comes up (true) or goes down (false). */
  onPushState?: (connected: boolean) => void;
  /** Called with every status seen before the outcome (searching, serverChanged...). */
  onUpdate?: (ticket: TicketStatus, via: "push" | "poll") => void;
  fetch?: FetchLike;
}

/** A push message: `{type, ticket}` (DESIGN section 6 "Push"). */
interface PushMessage {
  type: string;
  ticket: TicketStatus;
  assignedAt?: string;
}

function isPushMessage(data: unknown): data is PushMessage {
  const d = data as Partial<PushMessage> | null;
  return typeof d === "object" && d !== null && typeof d.type === "string" && typeof d.ticket === "object" && d.ticket !== null;
}

export async function findMatch(opts: FindMatchOptions): Promise<MatchOutcome> {
  const fetchFn: FetchLike = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const base = trimSlash(opts.baseUrl);
  // With a player JWT (PLAYER_AUTH=jwt) the player may listen BEFORE it asks: no outcome can then be pushed
  // before its connection exists. Without one, the ticket token (or the ticket's pushUrl) is the earliest.
  const jwt = authorizationOf(opts.headers);
  const early =
    jwt && opts.push !== false
      ? await PushConnection.open(() => negotiateUrl(fetchFn, base, opts.playerId, { ...opts.headers, Authorization: jwt }), opts.signal)
      : undefined;
  try {
    return await createAndWatch(opts, fetchFn, base, early);
  } catch (err) {
    early?.stop();
    throw err;
  }
}

async function createAndWatch(opts: FindMatchOptions, fetchFn: FetchLike, base: string, early: PushConnection | undefined): Promise<MatchOutcome> {
  const body: Record<string, unknown> = { playerId: opts.playerId, ...opts.ticketFields };
  if (opts.regionUrls && Object.keys(opts.regionUrls).length) {
    const latencies = await measureLatencies({ ...opts.latency, regions: opts.regionUrls, fetch: fetchFn, ...(opts.signal ? { signal: opts.signal } : {}) });
    opts.onLatencies?.(latencies);
    if (Object.keys(latencies).length) body.latencies = latencies;
  }
  if (opts.mode !== undefined) body.mode = opts.mode;
  if (opts.region !== undefined) body.region = opts.region;
  if (opts.skill !== undefined) body.skill = opts.skill;
  const created = expectStatus(
    await callJson<CreatedTicket>(fetchFn, `${base}/api/tickets`, { method: "POST", body, headers: opts.headers, signal: opts.signal }),
    202,
  );
  opts.onTicket?.(created.body);
  return new TicketWatch({ ...opts, fetch: fetchFn, ticket: created.body, firstPollMs: retryAfterMs(created.headers) }, early).run();
}

/** `Authorization` of the caller's headers (a player JWT), whatever its case. */
function authorizationOf(headers: Record<string, string> | undefined): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === "authorization");
  return key ? headers![key] : undefined;
}

async function negotiateUrl(fetchFn: FetchLike, base: string, playerId: string, headers: Record<string, string>, signal?: AbortSignal): Promise<string> {
  const answer = await callJson<{ url: string }>(fetchFn, `${base}/api/tickets/${encodeURIComponent(playerId)}/negotiate`, { method: "GET", headers, signal });
  return expectStatus(answer, 200).body.url;
}

/**
 * A player's push connection (@azure/web-pubsub-client, reliable JSON subprotocol). Every (re)connection after
 * the first negotiates again, so an expired client URL is never reused. Messages that arrive before anyone
 * listens (a connection opened before the ticket existed) are kept for the first listener.
 */
export class PushConnection {
  private listener: { message(data: unknown): void; state(up: boolean): void } | undefined;
  private readonly kept: unknown[] = [];
  private up = false;

  private constructor(private readonly client: WebPubSubClient) {
    client.on("server-message", (e) => (this.listener ? this.listener.message(e.message.data) : this.kept.push(e.message.data)));
    client.on("connected", () => this.setUp(true));
    client.on("disconnected", () => this.setUp(false));
    client.on("stopped", () => this.setUp(false));
  }

  /** Connected, or undefined when push is off (404 push_disabled) or unreachable: then the caller polls. */
  static async open(negotiate: () => Promise<string>, signal?: AbortSignal, firstUrl?: string): Promise<PushConnection | undefined> {
    let url: string;
    try {
      url = firstUrl ?? (await negotiate());
    } catch {
      return undefined;
    }
    let first = true;
    const connection = new PushConnection(
      new WebPubSubClient({
        getClientAccessUrl: async () => {
          if (!first) return negotiate();
          first = false;
          return url;
        },
      }),
    );
    try {
      await connection.client.start({ abortSignal: signal });
      return connection;
    } catch {
      connection.stop();
      return undefined;
    }
  }

  listen(listener: { message(data: unknown): void; state(up: boolean): void }): void {
    this.listener = listener;
    for (const data of this.kept.splice(0)) listener.message(data);
    if (this.up) listener.state(true);
  }

  stop(): void {
    this.client.stop();
  }

  private setUp(up: boolean): void {
    this.up = up;
    this.listener?.state(up);
  }
}

export interface WatchTicketOptions extends Omit<FindMatchOptions, "playerId" | "mode" | "region" | "skill" | "ticketFields" | "onTicket"> {
  ticket: CreatedTicket;
  firstPollMs?: number;
  /** Stops watching when aborted, WITHOUT cancelling the ticket (the promise rejects). `signal` cancels. */
  stopSignal?: AbortSignal;
}

/** Waits for the outcome of an existing ticket (findMatch after creating it; or after a page reload). */
export function watchTicket(opts: WatchTicketOptions & { connection?: PushConnection }): Promise<MatchOutcome> {
  return new TicketWatch(opts, opts.connection).run();
}

/**
 * With PLAYER_AUTH=jwt: the player's push connection opened BEFORE its ticket (negotiated with the JWT), for
 * `watchTicket({connection})` once the ticket exists (findMatch does this by itself). Undefined when push is off.
 */
export function openPushConnection(o: {
  baseUrl: string;
  playerId: string;
  jwt: string;
  fetch?: FetchLike;
  signal?: AbortSignal;
}): Promise<PushConnection | undefined> {
  const fetchFn: FetchLike = o.fetch ?? ((url, init) => globalThis.fetch(url, init));
  return PushConnection.open(() => negotiateUrl(fetchFn, trimSlash(o.baseUrl), o.playerId, { Authorization: o.jwt }), o.signal);
}

class TicketWatch {
  private readonly fetch: FetchLike;
  private readonly base: string;
  private readonly auth: Record<string, string>;
  private done = false;
  /** Once cancelling, the DELETE's answer is the outcome (it also reports a match that won the race). */
  private cancelling = false;
  private resolve!: (o: MatchOutcome) => void;
  private reject!: (e: unknown) => void;
  private statusReads = 0;
  private push: PushConnection | undefined;
  private pushConnected = false;
  /** Aborted to cut the poller's current wait short (push came up or went down, or the watch ended). */
  private wake = new AbortController();
  private readonly stopAll = new AbortController();

  constructor(
    private readonly opts: WatchTicketOptions,
    private readonly early?: PushConnection,
  ) {
    this.fetch = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.base = trimSlash(opts.baseUrl);
    // With PLAYER_AUTH=jwt the player's JWT proves who calls and the ticket token names the ticket.
    const jwt = authorizationOf(opts.headers);
    this.auth = jwt ? { Authorization: jwt, "X-Ticket-Token": opts.ticket.token } : { Authorization: `Bearer ${opts.ticket.token}` };
  }

  run(): Promise<MatchOutcome> {
    const outcome = new Promise<MatchOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.opts.signal?.aborted) void this.cancel();
    else this.opts.signal?.addEventListener("abort", () => void this.cancel(), { once: true });
    const stop = () => this.fail(new Error("stopped watching the ticket"));
    if (this.opts.stopSignal?.aborted) stop();
    else this.opts.stopSignal?.addEventListener("abort", stop, { once: true });
    void this.start();
    return outcome;
  }

  private async start(): Promise<void> {
    try {
      if (this.opts.push !== false) await this.connectPush();
      await this.poll();
    } catch (err) {
      if (!this.cancelling) this.fail(err);
    }
  }

  private finish(status: FinalState, ticket: TicketStatus, via: MatchOutcome["via"], assignedAt?: string): void {
    if (this.done || (this.cancelling && via !== "cancel")) return;
    this.done = true;
    const pushConnected = this.pushConnected;
    this.cleanup();
    this.resolve({ status, ticket, via, statusReads: this.statusReads, pushConnected, ...(assignedAt ? { assignedAt } : {}) });
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    this.reject(err);
  }

  private cleanup(): void {
    this.stopAll.abort();
    this.wake.abort();
    (this.push ?? this.early)?.stop();
  }

  private wakePoller(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  /** The early connection, else one opened now (the ticket's pushUrl first); on any failure the watch just polls. */
  private async connectPush(): Promise<void> {
    const negotiate = () => negotiateUrl(this.fetch, this.base, this.opts.ticket.playerId, { ...this.opts.headers, ...this.auth }, this.stopAll.signal);
    // The URL that came with the ticket saves a round trip: the sooner the connection is up, the fewer
    // outcomes are pushed before it exists (those are then read once, see setPushConnected).
    this.push = this.early ?? (await PushConnection.open(negotiate, this.stopAll.signal, this.opts.ticket.pushUrl));
    if (this.done) return this.push?.stop();
    this.push?.listen({ message: (data) => this.onPush(data), state: (up) => this.setPushConnected(up) });
  }

  private setPushConnected(up: boolean): void {
    if (this.pushConnected === up) return;
    this.pushConnected = up;
    this.opts.onPushState?.(up);
    // Up: read once now (catches an outcome pushed before this connection existed). Down: poll at full rate.
    this.wakePoller();
  }

  private onPush(data: unknown): void {
    if (!isPushMessage(data) || data.ticket.ticketId !== this.opts.ticket.ticketId) return;
    const assignedAt = typeof data.assignedAt === "string" ? data.assignedAt : undefined;
    if (FINAL_STATES.includes(data.type)) this.finish(data.type as FinalState, data.ticket, "push", assignedAt);
    // The group's first server died before confirming and a new one took it: still the match, on the new server.
    else if (data.type === "serverChanged" && data.ticket.status === "matched") this.finish("matched", data.ticket, "push", assignedAt);
    else this.opts.onUpdate?.(data.ticket, "push");
  }

  private async poll(): Promise<void> {
    // A connection that was up before the ticket existed missed nothing: no read needed. One that came up
    // after: read once now (an outcome pushed before it existed is found here).
    const safetyMs = this.opts.pushSafetyPollMs ?? 15_000;
    let nextWaitMs = this.early && this.pushConnected ? safetyMs : this.opts.push !== false && !this.pushConnected ? (this.opts.firstPollMs ?? 0) : 0;
    while (!this.done) {
      if (nextWaitMs > 0) await sleep(nextWaitMs, AbortSignal.any([this.wake.signal, this.stopAll.signal]));
      if (this.done) return;
      const answer = await callJson<TicketStatus>(this.fetch, this.opts.ticket.ticketUri, {
        method: "GET",
        headers: this.auth,
        signal: this.stopAll.signal,
      }).catch((err: unknown) => {
        if (this.done) return undefined;
        throw err;
      });
      if (!answer || this.done) return;
      this.statusReads++;
      const serverWait = retryAfterMs(answer.headers);
      if (answer.status === 200 && FINAL_STATES.includes(answer.body.status)) return this.finish(answer.body.status as FinalState, answer.body, "poll");
      if (answer.status === 200) this.opts.onUpdate?.(answer.body, "poll");
      else if (answer.status !== 503 && answer.status !== 429) expectStatus(answer, 200);
      nextWaitMs = this.pushConnected ? safetyMs : (serverWait ?? this.opts.pollIntervalMs ?? 1_000);
    }
  }

  /** The signal aborted: cancel the ticket; the answer (cancelled, or the match that won) is the outcome. */
  private async cancel(): Promise<void> {
    if (this.done) return;
    this.cancelling = true;
    try {
      const answer = await callJson<TicketStatus & { match?: TicketStatus; ticket?: TicketStatus }>(this.fetch, this.opts.ticket.ticketUri, {
        method: "DELETE",
        headers: this.auth,
      });
      if (answer.status === 200) return this.finish("cancelled", answer.body, "cancel");
      if (answer.status === 409 && answer.body.match) return this.finish("matched", answer.body.match, "cancel");
      if (answer.status === 409 && answer.body.ticket && FINAL_STATES.includes(answer.body.ticket.status)) {
        return this.finish(answer.body.ticket.status as FinalState, answer.body.ticket, "cancel");
      }
      expectStatus(answer, 200);
    } catch (err) {
      this.fail(err instanceof MatchmakerError ? err : new Error(`cancelling the ticket failed: ${(err as Error).message}`));
    }
  }
}
