/** The matchmaker's client library: `findMatch` for game clients, `GameServer` for game servers. */
export {
  findMatch,
  openPushConnection,
  watchTicket,
  type PushConnection,
  type CreatedTicket,
  type FindMatchOptions,
  type MatchOutcome,
  type TicketStatus,
  type WatchTicketOptions,
} from "./findMatch";
export { GameServer, type Allocation, type Backfill, type GameServerOptions, type ServerRecord } from "./gameServer";
export { MatchmakerError } from "./http";
export { measureLatencies, type LatencyOptions } from "./latency";
