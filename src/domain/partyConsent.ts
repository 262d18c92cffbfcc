/**
 * Party consent (issue 12, DESIGN.md section 6 "Player identity"): with PLAYER_AUTH=jwt a party ticket queues
 * only once every member has accepted it with its own JWT (PlayFab's WaitingForPlayers → WaitingForMatch).
 * Until then the request waits in a `partyConsent` orchestration (one per ticket), which publishes the
 * player request when the last member accepts, or ends `expired` at its deadline without queueing anyone.
 * Pure names and decisions here; the orchestration is src/functions/partyConsent.ts.
 */
import type { PlayerRequest } from "./types";

export const PARTY_CONSENT_ORCHESTRATOR = "partyConsent";
export const PARTY_ACCEPTED_EVENT = "PartyAccepted";
export const PUBLISH_PARTY_REQUEST_ACTIVITY = "publishPartyRequest";

/** Ticket status while the members have not all accepted. */
export const WAITING_FOR_PLAYERS = "waitingForPlayers";

/** The consent orchestration of a ticket (ticketIds are unique; playerIds are the matchRequest instances). */
export const consentInstanceId = (ticketId: string): string => `consent-${ticketId}`;

export interface PartyConsentInput {
  /** The request to publish once everyone accepted (its requestedAt is set then). */
  request: Omit<PlayerRequest, "requestedAt">;
  /** How long the members have to accept. */
  timeoutSeconds: number;
}

export interface PartyAcceptedEvent {
  playerId: string;
}

export type PartyConsentOutcome = { status: "accepted"; ticketId: string; requestedAt: string } | { status: "expired"; ticketId: string; pending: string[] };

/** The members (not the leader: its POST is its consent) who have not accepted yet. */
export function pendingMembers(input: PartyConsentInput, accepted: ReadonlySet<string>): string[] {
  return (input.request.party ?? []).map((m) => m.playerId).filter((id) => !accepted.has(id));
}

/** The member an accept event names, if it is one of the party's. */
export function acceptedMember(input: PartyConsentInput, payload: unknown): string | undefined {
  const id = (payload as Partial<PartyAcceptedEvent> | null | undefined)?.playerId;
  return typeof id === "string" && (input.request.party ?? []).some((m) => m.playerId === id) ? id : undefined;
}
