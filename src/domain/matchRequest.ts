/**
 * The matchRequest orchestrator's decisions, as pure functions (no Durable, no Redis), so they can be
 * read and tested apart from the replay machinery, and the messages it exchanges.
 */
import type { Assignment, ErrorBody, LeaveReason, LeaveResult, MatchMade, MatchOutcome, MatchRequestInput, SessionPlayer } from "./types";
import { ID_PATTERN, MODE_PATTERN, REGION_PATTERN } from "./fields";

/** The orchestrator's contract (DESIGN.md section 3): its name, its activity, the events it waits for. */
export const ORCHESTRATOR_NAME = "matchRequest";
export const LEAVE_ACTIVITY_NAME = "leaveQueue";
export const SERVER_READY_EVENT = "ServerReady";
export const CANCEL_EVENT = "Cancel";

/** Payload of the `ServerReady` event: the session's match-made message, addressed to one ticket. */
export interface ServerReadyEvent extends MatchMade {
  playerId: string;
  ticketId: string;
  /** W3C traceparent of the delivery that raised it (the orchestration's span links to it). */
  traceparent?: string;
}

/** Payload of the `Cancel` event. Without ticketId it cancels whatever ticket the instance runs. */
export interface CancelEvent {
  ticketId?: string;
  /** The intake refused the ticket (the store's error, e.g. `party_member_live` naming the member). */
  refusal?: ErrorBody;
}

/** The refusal a Cancel event carries, if it is well formed. */
export function refusalOf(payload: unknown): ErrorBody | undefined {
  const r = (payload as CancelEvent | null | undefined)?.refusal;
  return r && typeof r.error === "string" && typeof r.detail === "string" ? { error: r.error, detail: r.detail } : undefined;
}

export interface LeaveQueueInput {
  playerId: string;
  ticketId: string;
  region: string;
  reason: LeaveReason;
  /**
   * The ticket's requestedAt (ISO 8601, the orchestrator input's): with it the store answers a late leave of
   * this ticket "superseded" once the player's record holds a later ticket, instead of taking it for a leave
   * that overtook its request (which would replace that newer record; src/store/consistency.md).
   */
  requestedAt?: string;
  /** W3C traceparent of the ticket's trace. */
  traceparent?: string;
}

/** Margin added to a player's timeout before the sweeper treats it as abandoned (lost orchestrator). */
export const STALE_MARGIN_SECONDS = 30;

/** Whether `v` carries a well-formed ticketId, playerId, mode and region (orchestrator inputs, ticket tokens). */
export function hasTicketFields<T>(v: T): v is T & { ticketId: string; playerId: string; mode: string; region: string } {
  const t = v as Record<string, unknown> | null;
  return (
    !!t &&
    typeof t.ticketId === "string" &&
    ID_PATTERN.test(t.ticketId) &&
    typeof t.playerId === "string" &&
    ID_PATTERN.test(t.playerId) &&
    typeof t.mode === "string" &&
    MODE_PATTERN.test(t.mode) &&
    typeof t.region === "string" &&
    REGION_PATTERN.test(t.region)
  );
}

export function checkOrchestratorInput(input: unknown): MatchRequestInput {
  const i = input as Partial<MatchRequestInput> | null;
  if (!hasTicketFields(i) || typeof i.timeoutSeconds !== "number" || !(i.timeoutSeconds > 0)) {
    throw new Error(`matchRequest needs input {ticketId, playerId, mode, region, timeoutSeconds}, got ${JSON.stringify(input)?.slice(0, 200)}`);
  }
  return {
    ticketId: i.ticketId,
    playerId: i.playerId,
    mode: i.mode,
    region: i.region,
    timeoutSeconds: i.timeoutSeconds,
    ...(typeof i.requestedAt === "string" ? { requestedAt: i.requestedAt } : {}),
    ...(typeof i.traceparent === "string" ? { traceparent: i.traceparent } : {}),
  };
}

/** The match this ServerReady event gives this ticket, or undefined if it is for another (older) ticket. */
export function matchFromServerReady(input: MatchRequestInput, payload: unknown): MatchOutcome | undefined {
  const e = payload as Partial<ServerReadyEvent> | null | undefined;
  if (!e || typeof e !== "object" || e.ticketId !== input.ticketId) return undefined;
  if (typeof e.sessionId !== "string" || typeof e.serverId !== "string" || typeof e.address !== "string") return undefined;
  const players: SessionPlayer[] = Array.isArray(e.players) ? e.players.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId })) : [];
  return matchOutcomeFor(input.playerId, input.ticketId, { ...(e as MatchMade), players });
}

/**
 * A player's matched outcome from its session's match: with teams, also the teams and the index of the
 * player's team; with rules, the match quality. Plain FIFO matches carry neither (their outputs stay as they were).
 */
export function matchOutcomeFor(
  playerId: string,
  ticketId: string,
  m: Pick<MatchMade, "sessionId" | "serverId" | "address" | "players" | "teams" | "quality" | "playerLatencies">,
): MatchOutcome {
  const players = m.players.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId }));
  const teams = Array.isArray(m.teams) ? m.teams.map((t) => ({ players: [...t.players] })) : undefined;
  const team = teams?.findIndex((t) => t.players.includes(playerId));
  return {
    status: "matched",
    ticketId,
    sessionId: m.sessionId,
    serverId: m.serverId,
    server: m.address,
    players,
    ...(teams ? { teams } : {}),
    ...(team !== undefined && team >= 0 ? { team } : {}),
    ...(m.quality ? { quality: { ...m.quality } } : {}),
    ...(m.playerLatencies && Object.hasOwn(m.playerLatencies, playerId) ? { latencyMs: m.playerLatencies[playerId] } : {}),
  };
}

export function cancelApplies(input: MatchRequestInput, payload: unknown): boolean {
  const e = payload as CancelEvent | null | undefined;
  if (e === null || e === undefined || typeof e !== "object" || e.ticketId === undefined) return true;
  return e.ticketId === input.ticketId;
}

/** What a leave tells the orchestrator: the store's answer wins over why we asked (the race of defect 5). */
export function outcomeFromLeave(input: MatchRequestInput, result: LeaveResult, asked: LeaveReason): MatchOutcome {
  switch (result.outcome) {
    case "assigned":
      return matchOutcomeFor(input.playerId, input.ticketId, result.assignment);
    case "left":
    case "alreadyLeft":
    case "preempted":
      return { status: result.reason === "cancelled" ? "cancelled" : "timedOut", ticketId: input.ticketId };
    case "superseded":
    default:
      return { status: asked === "cancelled" ? "cancelled" : "timedOut", ticketId: input.ticketId };
  }
}

/** The ServerReady event for one player of a match-made message. */
export function serverReadyFor(msg: MatchMade, player: SessionPlayer): ServerReadyEvent {
  return { ...msg, playerId: player.playerId, ticketId: player.ticketId };
}

export function toMatchMade(a: Assignment): MatchMade {
  return {
    sessionId: a.sessionId,
    serverId: a.serverId,
    address: a.address,
    players: a.players.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId })),
    mode: a.mode,
    region: a.region,
    assignedAt: new Date(a.assignedAtMs).toISOString(),
    ...(a.teams ? { teams: a.teams.map((t) => ({ players: [...t.players] })) } : {}),
    ...(a.quality ? { quality: { ...a.quality } } : {}),
    ...(a.backfillId ? { backfillId: a.backfillId } : {}),
    ...(a.joined ? { joined: a.joined.map((p) => ({ playerId: p.playerId, ticketId: p.ticketId })) } : {}),
    ...(a.playerLatencies ? { playerLatencies: { ...a.playerLatencies } } : {}),
  };
}

/** The least wait a request gets however long it sat in the hub (or however skewed the client's clock). */
export const MIN_WAIT_SECONDS = 5;

/**
 * The timeout an orchestrator gets for a request: the wait counts from the request, not from when a batch
 * got to it, but at least MIN_WAIT_SECONDS remain so that a request that sat in the hub still gets a chance.
 */
export function remainingTimeoutSeconds(timeoutSeconds: number, requestedAtMs: number, nowMs: number): number {
  const elapsed = Math.max(0, (nowMs - requestedAtMs) / 1000);
  return Math.min(timeoutSeconds, Math.max(MIN_WAIT_SECONDS, Math.ceil(timeoutSeconds - elapsed)));
}
