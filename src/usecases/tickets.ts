/**
 * The ticket use cases of the HTTP API: create (publish a player request), read (status from the store,
 * the orchestration, or the token) and cancel.
 *
 * The token names the ticket and its region, so reads go straight to the region's Redis hash slot. The
 * store is the source of truth (it decides the timeout/match race); the orchestration's status fills in
 * once the store has forgotten a finished ticket.
 */
import { randomUUID } from "node:crypto";
import type { PartyMember, PlayerRequest } from "../domain/types";
import { matchOutcomeFor, ORCHESTRATOR_NAME, STALE_MARGIN_SECONDS } from "../domain/matchRequest";
import { ticketFromOutcome, ticketFromPlayer, ticketFromRef, type TicketView } from "../domain/ticket";
import { REGION_PATTERN, validateMode, validateRegion, validateTicketLatencies, validateTicketRules } from "../domain/validation";
import { homeRegion, validateLatencies } from "../domain/latency";
import { accept, refuse } from "./errors";
import { forEachLimit } from "../lib/limiter";
import { checkSchema } from "./schemas";
import { signTicketToken, ticketTokenLifetimeSeconds, type TicketClaims } from "./ticketToken";
import type { InstanceRecord, MatchRequests, PartyConsents, Ports } from "./ports";
import { WAITING_FOR_PLAYERS, type PartyConsentInput } from "../domain/partyConsent";
import { pushToPlayers } from "../messaging/webPubSub";
import { recordTicketCreated } from "../telemetry/metrics";
import { annotate, ATTR } from "../telemetry/tracing";

/** Durable calls in flight for the members of one party. */
const CANCEL_CONCURRENCY = 8;

type TicketPorts = Pick<Ports, "settings" | "store" | "clock" | "log"> & { matchRequests: MatchRequests; partyConsents?: PartyConsents };

export interface CreateTicketRequest {
  playerId: string;
  mode?: string;
  region?: string;
  /** Required in a mode with skill rules. */
  skill?: number;
  /** The OTHER members of the leader's party (not the leader). */
  party?: PartyMember[];
  /** Round-trip ms per region (issue 14): picks the home region when `region` is absent; a latency mode places by them. */
  latencies?: Record<string, number>;
}

/** One member of a ticket (the leader first) with its own credential. */
export interface TicketMember {
  playerId: string;
  token: string;
}

export interface CreatedTicket {
  ticketId: string;
  playerId: string;
  mode: string;
  region: string;
  token: string;
  /** Every member, the leader first (a solo ticket: the player alone). */
  members: TicketMember[];
  /** With PLAYER_AUTH=jwt, a party ticket waits for every member to accept it. */
  status?: typeof WAITING_FOR_PLAYERS;
}

/**
 * Publishes a player request for a player (and the party it leads) without a live ticket; the answer carries
 * each member's secret token. The whole party shares the ticketId; each member gets its own orchestrator at
 * intake (instanceId = its playerId).
 */
export async function createTicket(p: TicketPorts & Pick<Ports, "publisher">, body: CreateTicketRequest): Promise<CreatedTicket> {
  const s = p.settings;
  const playerId = body.playerId;
  const mode = accept(validateMode(body.mode ?? s.defaultMode, s.modes));
  // Without `region`, reported latencies choose the home region (the lowest); without either, the default.
  const measured = body.latencies === undefined ? undefined : accept(validateLatencies(body.latencies, s.regions, REGION_PATTERN));
  const region = accept(validateRegion(body.region ?? (measured && homeRegion(s, measured)) ?? s.defaultRegion, s.regions));
  const { skill, party } = accept(validateTicketRules(playerId, body, mode, s.modes[mode]!));
  const { latencies } = accept(validateTicketLatencies(measured, region, s.modes[mode]!, s));
  const memberIds = [playerId, ...(party ?? []).map((m) => m.playerId)];

  // Nobody of the party may have a live ticket: checked for all members at once, the leader's refusal first.
  const live = await Promise.all(memberIds.map((id) => liveTicketOf(p, region, id)));
  live.forEach((ticketId, i) => {
    if (!ticketId) return;
    const id = memberIds[i]!;
    if (i === 0) {
      throw refuse("conflict", "ticket_exists", `player ${id} already has a live ticket; use its token to read or cancel it`, {
        ticket: { playerId: id, ticketId, status: "searching" },
      });
    }
    throw refuse("conflict", "party_member_live", `party member ${id} already has a live ticket; it must finish or cancel it before joining this party`, {
      member: id,
    });
  });

  const ticketId = randomUUID();
  annotate({ [ATTR.ticketId]: ticketId, [ATTR.playerId]: playerId, [ATTR.mode]: mode, [ATTR.region]: region });
  const now = p.clock();
  const message: PlayerRequest = {
    ticketId,
    playerId,
    mode,
    region,
    requestedAt: new Date(now).toISOString(),
    ...(skill === undefined ? {} : { skill }),
    ...(party ? { party } : {}),
    ...(latencies ? { latencies } : {}),
  };
  // With player identity a party queues only once every member accepted with its own JWT (issue 12): until
  // then the request waits in the ticket's consent orchestration, which publishes it.
  const needsConsent = s.identity.playerAuth.mode === "jwt" && party !== undefined;
  if (needsConsent) {
    if (!p.partyConsents) throw new Error("createTicket needs the party consents port under PLAYER_AUTH=jwt");
    const { requestedAt: _at, ...request } = message;
    await p.partyConsents.start({ request, timeoutSeconds: s.matchTimeoutSeconds });
  } else await publishRequest(p, message);
  recordTicketCreated(mode, region);
  const lifetime = ticketTokenLifetimeSeconds(s, STALE_MARGIN_SECONDS);
  const members = memberIds.map((id) => ({
    playerId: id,
    token: signTicketToken({ ticketId, playerId: id, region, mode, rat: now }, s.identity.ticketKeys, lifetime, now),
  }));
  p.log.log(`ticket ${ticketId} for ${memberIds.join(", ")} (${mode}, ${region}) ${needsConsent ? "waits for its members to accept" : "accepted"}`);
  return { ticketId, playerId, mode, region, token: members[0]!.token, members, ...(needsConsent ? { status: WAITING_FOR_PLAYERS } : {}) };
}

async function publishRequest(p: Pick<Ports, "settings" | "publisher">, message: PlayerRequest): Promise<void> {
  const drift = checkSchema("playerRequest", message, "the player request");
  if (drift) throw new Error(`the matchmaker built a player request its own schema refuses: ${drift.detail}`);
  // Partition key = playerId: one player's requests stay in order on one partition.
  await p.publisher.send(p.settings.playerRequestsHub, [{ body: message, partitionKey: message.playerId }]);
}

/** The consent orchestration's activity: every member accepted, the party's request queues now. */
export async function publishPartyRequest(p: Pick<Ports, "settings" | "publisher" | "clock" | "log">, input: PartyConsentInput): Promise<string> {
  const requestedAt = new Date(p.clock()).toISOString();
  await publishRequest(p, { ...input.request, requestedAt });
  p.log.log(`ticket ${input.request.ticketId}: every member accepted; queued`);
  return requestedAt;
}

/** A party member accepts its party's ticket (PLAYER_AUTH=jwt; the caller's JWT was checked to be this member's). */
export async function acceptPartyTicket(p: TicketPorts, claims: TicketClaims): Promise<TicketView> {
  if (!p.partyConsents || p.settings.identity.playerAuth.mode !== "jwt")
    throw refuse("notFound", "no_consent", "party tickets wait for their members' consent only with PLAYER_AUTH=jwt");
  const consent = await p.partyConsents.status(claims.ticketId);
  if (!consent?.live) {
    throw refuse(
      "conflict",
      "consent_closed",
      consent ? `the party ticket no longer waits for consent (${consent.outcome?.status ?? "ended"})` : "this ticket waits for no consent",
      {
        ticket: await readTicket(p, claims),
      },
    );
  }
  await p.partyConsents.accept(claims.ticketId, claims.playerId);
  return { ...ticketFromRef(claims, WAITING_FOR_PLAYERS), pending: consent.pending.filter((id) => id !== claims.playerId) };
}

/**
 * The live ticket of a player, if any. The store first: a player waiting in this region is refused without a
 * Durable call (Durable calls are the cost and throughput driver on Azure, issue 16). Only then the
 * orchestration (instanceId = playerId), which covers every region and requests still in the hub.
 */
async function liveTicketOf(p: TicketPorts, region: string, playerId: string): Promise<string | undefined> {
  const current = await p.store.getPlayer(region, playerId);
  if (current?.state === "waiting") return current.ticketId;
  const status = await p.matchRequests.status(playerId);
  return status?.live ? status.ticketId : undefined;
}

/** The status of the ticket a token names. */
export async function readTicket(p: TicketPorts, claims: TicketClaims): Promise<TicketView> {
  const { playerId } = claims;
  const view = await p.store.getPlayer(claims.region, playerId);
  if (view && view.ticketId === claims.ticketId) {
    const ticket = ticketFromPlayer(view);
    if (ticket.status !== "cancelled") return ticket;
    // Cancelled: by the player, or by the intake refusing the ticket (e.g. party_member_live), which only the
    // orchestration's output says. One status read, on a final status clients stop polling at.
    const outcome = (await p.matchRequests.status(playerId))?.outcome;
    return outcome?.status === "cancelled" && outcome.ticketId === claims.ticketId && outcome.refusal ? { ...ticket, refusal: outcome.refusal } : ticket;
  }

  const status = await p.matchRequests.status(playerId);
  if (status && status.ticketId === claims.ticketId) {
    if (status.outcome) return ticketFromOutcome(playerId, status.outcome);
    if (status.live) return ticketFromRef(claims, "searching");
  }
  if (view && view.requestedAtMs > claims.rat) throw refuse("notFound", "ticket_replaced", "the player has a newer ticket");
  // A party ticket waiting for (or refused by) its members' consent: only under PLAYER_AUTH=jwt, one more read.
  if (p.partyConsents && p.settings.identity.playerAuth.mode === "jwt") {
    const consent = await p.partyConsents.status(claims.ticketId);
    if (consent?.live) return { ...ticketFromRef(claims, WAITING_FOR_PLAYERS), pending: consent.pending };
    if (consent?.outcome?.status === "expired") {
      const who = consent.outcome.pending.join(", ");
      return { ...ticketFromRef(claims, "timedOut"), refusal: { error: "party_not_accepted", detail: `party member(s) ${who} did not accept in time` } };
    }
  }
  // Accepted but not processed yet (still in the Event Hub), as long as it could still be.
  const ageMs = p.clock() - claims.iat * 1000;
  if (ageMs < (p.settings.matchTimeoutSeconds + STALE_MARGIN_SECONDS) * 1000) return ticketFromRef(claims, "searching");
  throw refuse("notFound", "ticket_not_found", "the ticket is unknown or has expired");
}

/**
 * Frees the slot at once (one atomic store call) and tells the orchestration (`Cancel`). A matched ticket
 * cannot be cancelled: a conflict carrying the match.
 */
export async function cancelTicket(p: TicketPorts, claims: TicketClaims): Promise<TicketView> {
  const { playerId, ticketId } = claims;
  // The ticket's request time lets the store refuse a stale token whose ticket it has forgotten (superseded).
  const [result] = await p.store.leave([{ playerId, ticketId, region: claims.region, reason: "cancelled", requestedAtMs: claims.rat }]);
  if (!result) throw new Error("the store answered no result for the leave request");
  switch (result.outcome) {
    case "assigned":
      throw refuse("conflict", "already_matched", "the ticket is already matched and cannot be cancelled", {
        match: ticketFromOutcome(playerId, matchOutcomeFor(playerId, ticketId, result.assignment)),
      });
    case "superseded":
      throw refuse("conflict", "ticket_replaced", "the player has a newer ticket; cancel that one with its own token");
    case "alreadyLeft":
      if (result.reason !== "cancelled") {
        throw refuse("conflict", "ticket_finished", `the ticket already ended (${result.reason === "expired" ? "timedOut" : result.reason})`, {
          ticket: { playerId, ticketId, status: "timedOut" },
        });
      }
      break;
    default:
      break;
  }
  // The slot is free already; the event only lets the orchestration finish now rather than at its
  // deadline (where its leave would report "cancelled" anyway). So a failure here is logged, not fatal.
  // A party leaves whole: the other members' orchestrations get Cancel too, and their players are told.
  const partyMembers = result.outcome === "left" ? (result.partyMembers ?? []) : [];
  await forEachLimit([playerId, ...partyMembers], CANCEL_CONCURRENCY, async (id) => {
    try {
      await p.matchRequests.cancel(id, { ticketId });
    } catch (err) {
      p.log.warn(`Cancel event for ${id} not delivered (the orchestration ends at its deadline): ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const cancelled = ticketFromRef(claims, "cancelled");
  if (result.outcome === "left") {
    const notices = [playerId, ...partyMembers].map((id) => ({ playerId: id, type: "cancelled" as const, ticket: { ...cancelled, playerId: id } }));
    await pushToPlayers(notices, (m) => p.log.warn(m));
  }
  return cancelled;
}

/** The orchestration of a ticket, for the token-authorized Durable status endpoint. */
export type TicketInstance = { found: false } | { found: true; running: boolean; record: InstanceRecord };

/**
 * The player's matchRequest instance as the Durable status endpoint shows it, if it runs (or ran) the
 * token's ticket. Before the intake has started it (the request is still in the hub) it reads as the
 * extension shows a scheduled instance: Pending. An instance of another ticket of the player, or none
 * once the ticket could no longer be waiting, is not found.
 */
export async function readTicketInstance(p: TicketPorts, claims: TicketClaims): Promise<TicketInstance> {
  const status = await p.matchRequests.status(claims.playerId);
  if (status && status.ticketId === claims.ticketId) return { found: true, running: status.live, record: status.record };
  const issuedMs = claims.iat * 1000;
  const neverStarted = !status || Date.parse(status.record.createdTime) < issuedMs - 1000;
  if (neverStarted && p.clock() - issuedMs < (p.settings.matchTimeoutSeconds + STALE_MARGIN_SECONDS) * 1000) {
    const at = `${new Date(issuedMs).toISOString().slice(0, 19)}Z`;
    const record = {
      name: ORCHESTRATOR_NAME,
      instanceId: claims.playerId,
      runtimeStatus: "Pending",
      input: null,
      customStatus: null,
      output: null,
      createdTime: at,
      lastUpdatedTime: at,
    };
    return { found: true, running: true, record };
  }
  return { found: false };
}
