/**
 * What the use cases need from the outside, as small interfaces. The function files adapt Azure's
 * objects to these (src/functions/wiring.ts, src/functions/durable/); tests may pass their own.
 */
import type { Settings } from "../config/settings";
import type { EventPublisher } from "../messaging/eventPublisher";
import type { MatchmakingStore } from "../store";
import type { MatchOutcome, MatchRequestInput } from "../domain/types";
import type { CancelEvent, ServerReadyEvent } from "../domain/matchRequest";
import type { PartyConsentInput, PartyConsentOutcome } from "../domain/partyConsent";

export type { EventPublisher } from "../messaging/eventPublisher";
export type { Settings } from "../config/settings";

/** The store operations the use cases call: the MatchmakingStore's own signatures (a fake needs only these). */
export type Store = Pick<
  MatchmakingStore,
  | "enqueue"
  | "leave"
  | "assign"
  | "claimUnannounced"
  | "confirmAnnounced"
  | "registerServer"
  | "releaseServer"
  | "ackServer"
  | "deregisterServer"
  | "expireServers"
  | "expireStale"
  | "regroup"
  | "requestBackfill"
  | "cancelBackfill"
  | "fillBackfills"
  | "claimBackfillJoins"
  | "confirmBackfillJoins"
  | "getPlayer"
  | "getServer"
  | "listServers"
  | "stats"
  | "deadLetter"
  | "listDeadLetters"
  | "rateLimit"
  | "close"
>;

/**
 * An orchestration's status as the Durable HTTP status endpoint shows it (DESIGN.md section 4): times to
 * the second with `Z`.
 */
export interface InstanceRecord {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
}

/** What a player's matchRequest orchestration is doing, as far as the use cases care. */
export interface MatchRequestStatus {
  record: InstanceRecord;
  /** Running, pending or suspended: it still waits for a match. */
  live: boolean;
  /** The ticket it works on (from its input or custom status). */
  ticketId: string | undefined;
  /** Its output once completed. */
  outcome: MatchOutcome | undefined;
}

/** The players' matchRequest orchestrations (instanceId = playerId), behind the Durable client. */
export interface MatchRequests {
  /** The orchestration of a player, or null if there is none. */
  status(playerId: string): Promise<MatchRequestStatus | null>;
  /**
   * Starts the player's orchestration: the existence check and the start in one call. false: an execution of
   * this instance id is still active (the Durable extension refuses the start); a finished one is replaced.
   */
  start(input: MatchRequestInput): Promise<boolean>;
  /** Raises `ServerReady`; false if the instance does not exist. */
  serverReady(playerId: string, event: ServerReadyEvent): Promise<boolean>;
  /** Raises `Cancel`; false if the instance does not exist. */
  cancel(playerId: string, event: CancelEvent): Promise<boolean>;
}

/** The consent orchestrations of party tickets under PLAYER_AUTH=jwt (src/domain/partyConsent.ts). */
export interface PartyConsents {
  start(input: PartyConsentInput): Promise<void>;
  /** Raises `PartyAccepted`; false if the ticket has no consent orchestration. */
  accept(ticketId: string, playerId: string): Promise<boolean>;
  /** Where the ticket's consent stands, or null if it has none. */
  status(ticketId: string): Promise<{ live: boolean; pending: string[]; outcome: PartyConsentOutcome | undefined } | null>;
}

/** Housekeeping of the orchestrations' histories. */
export interface InstanceHistory {
  /** Deletes the history of finished (completed, terminated, failed) instances created before `createdBefore`; how many. */
  purgeFinished(createdBefore: Date): Promise<number>;
}

export interface Log {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Epoch milliseconds. */
export type Clock = () => number;

/** Everything a use case may use; each takes the part it needs. */
export interface Ports {
  settings: Settings;
  store: Store;
  publisher: EventPublisher;
  clock: Clock;
  log: Log;
}
