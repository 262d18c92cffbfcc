/**
 * Intake of a batch of `player-requests` messages (the addPlayers trigger):
 * 1. Each message is checked against the published schema and the domain rules; a bad one is
 *    dead-lettered with its reason and never costs the rest of the batch. The same ticket twice in one
 *    batch counts once; a second ticket of the same player in one batch is refused (player_busy).
 * 2. The matchRequest orchestrator is started per good request (instanceId = playerId) unless the store
 *    already holds this ticket (a redelivery: its orchestrator was started before it was enqueued). The start
 *    itself is the existence check (the extension refuses an id that is still active), so a new ticket costs
 *    one Durable call; only a refused start reads the status, to tell a redelivery from a busy player.
 * 3. The whole batch is enqueued with ONE store call (one script per region); then ONE store call
 *    dead-letters the bad messages with the requests the store refused.
 * 4. Sessions the batch filled are assigned at once and announced, so a match does not wait for the timer.
 *
 * Every step is idempotent, so a re-run of the same batch (after an infrastructure failure) changes
 * nothing that was done.
 */
import type { ErrorBody, MatchRequestInput, PlayerRequest, PlayerView } from "../domain/types";
import { remainingTimeoutSeconds } from "../domain/matchRequest";
import type { EnqueueRequest, EnqueueResult } from "../store/types";
import { forEachLimit } from "../lib/limiter";
import { assignAndAnnounce } from "./announce";
import { fillAndAnnounce } from "./backfill";
import { isolatePoison } from "./isolatePoison";
import { deadLetterRejected, messageText, parsePlayerRequest, type Rejected } from "./messages";
import type { MatchRequests, MatchRequestStatus, Ports } from "./ports";
import { ATTR, MessageTraces, OpenSpans, traceparentOf, type Context } from "../telemetry/tracing";

export const PLAYER_REQUESTS_SOURCE = "player-requests";
/** Durable client calls in flight per batch. */
const START_CONCURRENCY = 16;

type GoodRequest = PlayerRequest & { requestedAtMs: number; trace?: Context };
type IntakePorts = Ports & { matchRequests: MatchRequests };

export interface IntakeResult {
  messages: number;
  queued: number;
  duplicates: number;
  rejected: number;
}

/**
 * The intake of a batch; a batch that fails for another reason than an unavailable service is taken apart
 * (isolatePoison). `traceparents[i]`: the W3C trace context message i carried (its ticket's trace).
 */
export function intakeBatch(p: IntakePorts, messages: unknown[], traceparents: (string | undefined)[] = []): Promise<IntakeResult> {
  const traces = new MessageTraces(messages, traceparents);
  return isolatePoison(p, PLAYER_REQUESTS_SOURCE, messages, (batch) => intake(p, batch, traces), sumResults);
}

function sumResults(results: IntakeResult[], poisoned: number): IntakeResult {
  const sum = (k: keyof IntakeResult) => results.reduce((n, r) => n + r[k], 0);
  return { messages: sum("messages") + poisoned, queued: sum("queued"), duplicates: sum("duplicates"), rejected: sum("rejected") + poisoned };
}

async function intake(p: IntakePorts, messages: unknown[], traces: MessageTraces): Promise<IntakeResult> {
  // One span per ticket, in the ticket's trace, open until the sessions its batch filled are announced.
  const spans = new OpenSpans();
  try {
    return await intakeTraced(p, messages, traces, spans);
  } finally {
    spans.endAll();
  }
}

async function intakeTraced(p: IntakePorts, messages: unknown[], traces: MessageTraces, spans: OpenSpans): Promise<IntakeResult> {
  const { good, rejected } = screenBatch(p, messages, traces);
  for (const req of good) {
    req.trace = spans.begin(req.ticketId, "addPlayers", req.trace!, {
      [ATTR.ticketId]: req.ticketId,
      [ATTR.playerId]: req.playerId,
      [ATTR.mode]: req.mode,
      [ATTR.region]: req.region,
    });
  }
  const toEnqueue: GoodRequest[] = [];
  // One orchestrator per party member (instanceId = its playerId), all on the party's ticket.
  const members = good.flatMap((req) => memberIdsOf(req).map((playerId) => ({ req, playerId })));
  // The store's records of these players, read at once (one pipelined burst, no Durable call).
  const records = await Promise.all(members.map(async (m) => ({ ...m, view: await p.store.getPlayer(m.req.region, m.playerId) })));
  const decisions = new Map<GoodRequest, { playerId: string; decision: "proceed" | "done" | "busy" }[]>();
  await forEachLimit(records, START_CONCURRENCY, async ({ req, playerId, view }) => {
    const byStore = storeDecision(view, req.ticketId);
    const decision = byStore === "proceed" || byStore === "done" ? byStore : await ensureOrchestrator(p, req, playerId, byStore === "ask");
    decisions.set(req, [...(decisions.get(req) ?? []), { playerId, decision }]);
  });
  const unstarted: { playerId: string; ticketId: string; refusal: ErrorBody }[] = [];
  for (const req of good) {
    const mine = decisions.get(req) ?? [];
    const busy = mine.find((d) => d.decision === "busy");
    if (busy) {
      const refusal =
        busy.playerId === req.playerId
          ? { error: "player_busy", detail: `player ${busy.playerId} already has another live ticket; finish or cancel it first` }
          : { error: "party_member_live", detail: `party member ${busy.playerId} already has another live ticket; it must finish or cancel it first` };
      rejected.push(refused(req, refusal.error, refusal.detail));
      // The other members' orchestrators of this ticket, started just now, end at once (the party never
      // queued), saying why.
      for (const d of mine) if (d.decision === "proceed") unstarted.push({ playerId: d.playerId, ticketId: req.ticketId, refusal });
    } else if (mine.some((d) => d.decision === "proceed")) toEnqueue.push(req);
  }

  // Requests the store refuses are dead-lettered with the bad messages: one store call for both.
  const result = toEnqueue.length ? await p.store.enqueue(toEnqueue.map(enqueueRequest)) : undefined;
  result?.results.forEach((r, i) => {
    spans.annotate(r.ticketId, { [ATTR.outcome]: r.outcome });
    if (r.outcome === "rejected") rejected.push(refused(toEnqueue[i]!, r.error, r.detail));
  });
  await deadLetterRejected(p.store, PLAYER_REQUESTS_SOURCE, "player-request", rejected, p.log);
  if (!result && unstarted.length) await finishOrchestrators(p, [], [], unstarted);
  const summary = {
    messages: messages.length,
    queued: count(result?.results, "queued"),
    duplicates: count(result?.results, "duplicate"),
    rejected: rejected.length,
  };
  if (!result) return summary;

  await finishOrchestrators(p, result.results, toEnqueue, unstarted);
  p.log.log(`addPlayers: ${summary.messages} message(s): ${summary.queued} queued, ${summary.duplicates} duplicate, ${summary.rejected} rejected`);
  // Sessions this batch filled: assign now rather than at the next sweeper tick. A failed send is not
  // thrown: the sessions are safe in the store's outbox and the sweeper re-publishes them.
  // A session continues the trace of a ticket of this batch in it (the one that filled it).
  const parentOf = (ticketIds: readonly string[]) =>
    ticketIds
      .map((t) => spans.contextOf(t))
      .filter((c) => c !== undefined)
      .at(-1);
  // Backfill first (issue 14): games that asked for players take the tickets that fit before new sessions do.
  // Only where the enqueue saw an open request: elsewhere a request opened since fills from these tickets
  // itself, and the sweep fills every tick whatever an intake did (a fill costs Redis ~23 µs even empty).
  const ready = new Set(result.readySessions.map((r) => r.region));
  for (const region of result.backfillRegions) await fillAndAnnounce(p, region);
  for (const region of ready) await assignAndAnnounce(p, region, parentOf);
  return summary;
}

/** Parses every message and drops in-batch repeats; nothing here touches a backing service. */
export function screenBatch(p: Pick<Ports, "settings">, messages: unknown[], traces = new MessageTraces()): { good: GoodRequest[]; rejected: Rejected[] } {
  const rejected: Rejected[] = [];
  const good: GoodRequest[] = [];
  const seenTickets = new Set<string>();
  const ticketOfPlayer = new Map<string, string>();
  messages.forEach((raw, index) => {
    const parsed = parsePlayerRequest(raw, index, p.settings);
    if (!parsed.ok) return void rejected.push(parsed);
    const { ticketId } = parsed.value;
    // The same ticket twice in one batch (a producer retry): one is enough.
    if (seenTickets.has(ticketId)) return;
    seenTickets.add(ticketId);
    // Two tickets of one player (as player or party member) in one batch: one orchestration per player, so the first one wins.
    const ids = memberIdsOf(parsed.value);
    const taken = ids.find((id) => ticketOfPlayer.has(id));
    if (taken !== undefined) {
      return void rejected.push({
        index,
        body: messageText(raw),
        error: "player_busy",
        detail: `player ${taken} already has ticket ${ticketOfPlayer.get(taken)} in this batch`,
      });
    }
    for (const id of ids) ticketOfPlayer.set(id, ticketId);
    good.push({ ...parsed.value, trace: traces.parentOf(raw) });
  });
  return { good, rejected };
}

/**
 * What the store's record of the player says about a request, without a Durable call: the store enqueues a
 * ticket only after its orchestrator started, so a ticket it holds as waiting or matched has (or had) its
 * orchestrator:
 * - "proceed": still waiting: the enqueue is a harmless duplicate.
 * - "done": matched: a late redelivery; its orchestrator finished or is finishing, and a start would
 *   replace the finished execution.
 * - "start": the store does not know this ticket: the Durable start decides.
 * - "ask": the store holds it as left, which a cancel that overtook the request also records before any
 *   orchestrator exists (that one is started, so that it ends cancelled): status, then start if none.
 * The store keeps a ticket's record as long as the task hub keeps its
 * instance (TICKET_RETENTION_SECONDS, purgeInstances).
 */
export function storeDecision(view: PlayerView | null, ticketId: string): "proceed" | "done" | "ask" | "start" {
  if (!view || view.ticketId !== ticketId) return "start";
  if (view.state === "waiting") return "proceed";
  return view.state === "matched" ? "done" : "ask";
}

/**
 * What an existing orchestration means for a request:
 * - "proceed": the instance runs this ticket (started now or before): enqueue it (idempotent).
 * - "done": this ticket's instance already finished (a late redelivery): nothing to do.
 * - "busy": the player's instance runs ANOTHER ticket: this request is refused.
 * - "start": no instance, or one that finished another ticket: start one for this ticket.
 */
export function orchestratorDecision(status: MatchRequestStatus | null, ticketId: string): "start" | "proceed" | "done" | "busy" {
  if (status?.live) return status.ticketId === ticketId ? "proceed" : "busy";
  if (status && status.ticketId === ticketId) return "done";
  return "start";
}

/**
 * Starts the orchestrator of a ticket the store does not know: the start is the existence check. A refused
 * start (an execution of the player is still active) costs one status read: it runs this ticket (a
 * redelivery that came before the enqueue) or another one (busy). An execution that finished between the
 * two calls gets one more start. `askFirst`: read the status before starting (a start must not replace an
 * execution that finished this ticket).
 */
async function ensureOrchestrator(p: IntakePorts, req: GoodRequest, playerId: string, askFirst: boolean): Promise<"proceed" | "done" | "busy"> {
  if (askFirst) {
    const decision = orchestratorDecision(await p.matchRequests.status(playerId), req.ticketId);
    if (decision !== "start") return decision;
  }
  const timeoutSeconds = remainingTimeoutSeconds(p.settings.matchTimeoutSeconds, req.requestedAtMs, p.clock());
  const input: MatchRequestInput = {
    ticketId: req.ticketId,
    playerId,
    mode: req.mode,
    region: req.region,
    timeoutSeconds,
    requestedAt: req.requestedAt,
    ...(req.trace && traceparentOf(req.trace) ? { traceparent: traceparentOf(req.trace) } : {}),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await p.matchRequests.start(input)) return "proceed";
    const decision = orchestratorDecision(await p.matchRequests.status(playerId), req.ticketId);
    if (decision !== "start") return decision;
  }
  return "busy";
}

/**
 * A ticket cancelled before it got here (DELETE overtook the message) is recorded as left, and a ticket
 * the store refused will never be matched: their orchestrators (every member's), started just now, finish
 * at once instead of waiting for their deadline. A refusal travels with the Cancel, so each member's status
 * says why (e.g. `party_member_live` naming the member). `also`: orchestrators of requests refused before
 * the store saw them.
 */
async function finishOrchestrators(
  p: IntakePorts,
  results: EnqueueResult[],
  requests: GoodRequest[],
  also: { playerId: string; ticketId: string; refusal?: ErrorBody }[] = [],
): Promise<void> {
  const finished = results.flatMap((r, i) => {
    if (r.outcome !== "rejected" && !(r.outcome === "duplicate" && r.state === "left")) return [];
    const refusal = r.outcome === "rejected" ? { error: r.error, detail: r.detail } : undefined;
    const ids = requests[i] ? memberIdsOf(requests[i]) : [r.playerId];
    return ids.map((playerId) => ({ playerId, ticketId: r.ticketId, ...(refusal ? { refusal } : {}) }));
  });
  await forEachLimit([...finished, ...also], START_CONCURRENCY, async ({ playerId, ticketId, refusal }) => {
    await p.matchRequests.cancel(playerId, { ticketId, ...(refusal ? { refusal } : {}) });
  });
}

/** The leader, then the other members of its party. */
function memberIdsOf(r: PlayerRequest): string[] {
  return [r.playerId, ...(r.party ?? []).map((m) => m.playerId)];
}

function refused(r: GoodRequest, error: string, detail: string): Rejected {
  const { requestedAtMs: _ms, trace: _trace, ...message } = r;
  return { index: -1, body: JSON.stringify(message), error, detail };
}

function enqueueRequest(r: GoodRequest): EnqueueRequest {
  return {
    ticketId: r.ticketId,
    playerId: r.playerId,
    mode: r.mode,
    region: r.region,
    requestedAtMs: r.requestedAtMs,
    ...(r.skill === undefined ? {} : { skill: r.skill }),
    ...(r.party ? { party: r.party } : {}),
    ...(r.latencies ? { latencies: r.latencies } : {}),
  };
}

const count = (results: EnqueueResult[] | undefined, outcome: EnqueueResult["outcome"]): number => results?.filter((r) => r.outcome === outcome).length ?? 0;
