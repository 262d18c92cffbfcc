/** What a simulation is asked to do and what it reports: shared by the simulator's modules and its callers. */
import type { MatchQuality, ModeRules, Team } from "../../src/domain/modeRules";
import type { Population } from "./population";
import type { LatencyPlace } from "./latency";

export interface SimulationOptions {
  baseUrl: string;
  players: number;
  servers: number;
  mode: string; // a mode name or "mixed"
  modes: Record<string, number>;
  regions: string[];
  functionKey?: string;
  /** How long a server "plays" before releasing itself. */
  gameMs?: number;
  heartbeatMs?: number;
  pollIntervalMs?: number;
  /** Concurrent HTTP requests the simulator makes. */
  concurrency?: number;
  /** Give up waiting for players after this long. */
  deadlineMs?: number;
  /** Players per second to arrive (default: all at once). */
  arrivalRate?: number;
  progress?: (line: string) => void;
  /** Prefix of player and server ids, so several runs can share one Redis. */
  idPrefix?: string;
  /** Register servers this long after the players started (tests of "too few servers, then more"). */
  serverDelayMs?: number;
  /** Deregister the servers at the end (default true). */
  deregister?: boolean;
  /** Called once all players have their ticket (tests inject faults or restarts here). */
  onAllRequested?: () => Promise<void> | void;
  /**
   * The rule-set lab: players drawn from this population (skills, parties) for `mode` (one mode with rules),
   * whose rules are `modeRules[mode]`; the result gets a `rules` report and the rules checks.
   */
  population?: Population;
  modeRules?: Record<string, ModeRules>;
  /**
   * The latency comparison (--latency, tools/simulation/latency.ts): player i lives at `latencyPlaces[i]`
   * (its nearest region is its ticket's region); with `sendLatencies` its ticket reports its latencies too.
   */
  latencyPlaces?: LatencyPlace[];
  sendLatencies?: boolean;
}

export type PlayerStatus = "matched" | "timedOut" | "cancelled" | "failed" | "unfinished";

export interface PlayerResult {
  playerId: string;
  ticketId?: string;
  mode: string;
  region: string;
  status: PlayerStatus;
  sessionId?: string;
  serverId?: string;
  server?: string;
  players?: { playerId: string; ticketId: string }[];
  timeToMatchMs?: number;
  /** When the client saw its outcome (epoch ms). */
  finishedAt?: number;
  /** How the outcome reached the client (push mode: "push" or "poll"). */
  via?: string;
  /** When its session got its server (epoch ms), when the client was told it (push mode). */
  assignedAt?: number;
  /** When its ticket answer arrived (epoch ms). */
  ticketAt?: number;
  /** When its push connection first came up (epoch ms; push mode). */
  pushConnectedAt?: number;
  polls: number;
  error?: string;
  /** Rule-set lab: the player's skill, its party (leader first), and what its match said. */
  skill?: number;
  party?: string[];
  teams?: Team[];
  team?: number;
  quality?: MatchQuality;
  /** The latency comparison: the latencies the ticket reported (absent: it named its region only). */
  latencies?: Record<string, number>;
  /** What its match said of its latency to the match's region (latency modes). */
  latencyMs?: number;
}

export interface SessionSeen {
  serverId: string;
  mode: string;
  region: string;
  players: string[];
}

export interface SimulationResult {
  players: PlayerResult[];
  matched: number;
  timedOut: number;
  failed: number;
  unfinished: number;
  p50: number;
  p95: number;
  p99: number;
  durationMs: number;
  sessions: Map<string, SessionSeen>;
  releases: number;
  /**
   * How long after its session got its server (the match-made `assignedAt`; with free servers that is the
   * moment the session filled) each matched player saw its match: p50 / p99 ms, over the sessions whose
   * assignment time a client learned (push mode); NaN when none did (polling clients are not told it).
   */
  toldAfterMatch: {
    p50: number;
    p99: number;
    players: number;
    /** The players told by a push message. */
    byPush: { p50: number; p99: number; players: number };
    /**
     * The players whose push connection came up only after their match (they learn it from one status read):
     * how many, and p50 of when their connection came up and when their ticket answer had arrived, after the match.
     */
    connectedAfterMatch: { players: number; connectedP50: number; ticketAnsweredP50: number };
  };
  /** Status reads (polls) per matched player. */
  statusReadsPerMatched: number;
  /** Problems found by the consistency checks; empty means none. */
  problems: string[];
  httpErrors: number;
  /** Rule-set lab runs only. */
  rules?: RulesReport;
}

/** How a rule set did: wait against match quality, over the matches of the run. */
export interface RulesReport {
  mode: string;
  players: number;
  matchedShare: number;
  /** Client-seen time to match (s). */
  waitSeconds: { p50: number; p95: number };
  /** Per match: max - min skill, and the team skill gap (from the players' known skills). */
  skillSpread: { p50: number; p95: number };
  teamGap: { p50: number; p95: number };
  /** Per match: the wait of its longest-waiting ticket when it filled (the match's own quality.waitSeconds). */
  matchWaitSeconds: { p50: number; p95: number };
  matches: { spread: number; teamGap: number; waitSeconds: number; window: number }[];
}
