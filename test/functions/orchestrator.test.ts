/**
 * matchRequest through the REAL durable-functions replay code: the captured registration is invoked
 * with host-shaped histories (test/functions/support/history.ts), episode by episode, and the answer
 * ({isDone, actions, output, customStatus}) is checked as the extension would read it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { installFunctionsCore, type FunctionsCore } from "../../local-runtime/functionsCore";
import { ActionType, History, leafActions, runEpisode, type OrchestratorState } from "./support/history";
import { at as nth } from "../support/at";

let core: FunctionsCore;
beforeAll(async () => {
  core = installFunctionsCore();
  await import("../../src/functions/matchRequest.js");
});

const t0 = new Date("2026-03-01T10:00:00.000Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const input = { ticketId: "tkt-1", playerId: "alice", mode: "duel", region: "westeurope", timeoutSeconds: 60 };
const deadline = at(60);
const players = [
  { playerId: "alice", ticketId: "tkt-1" },
  { playerId: "bob", ticketId: "tkt-9" },
];
const serverReady = (ticketId: string, sessionId = "westeurope.1") => ({
  sessionId,
  serverId: "gs-1",
  address: "10.0.0.5:7777",
  players,
  mode: "duel",
  region: "westeurope",
  assignedAt: at(5).toISOString(),
  playerId: "alice",
  ticketId,
});
const assignment = {
  sessionId: "westeurope.1",
  serverId: "gs-1",
  address: "10.0.0.5:7777",
  players,
  mode: "duel",
  region: "westeurope",
  assignedAtMs: at(59).getTime(),
};
const matchedOutput = { status: "matched", ticketId: "tkt-1", sessionId: "westeurope.1", serverId: "gs-1", server: "10.0.0.5:7777", players };

/** Episode 1 as the host records it after applying the answer: timer 0 created. */
function started(): History {
  return new History("alice", input).episode(t0).close(t0, (e) => e.timerCreated(0, deadline));
}

/** Started, then the deadline timer fires. */
const timedOut = (): History => started().episode(deadline, (e) => e.timerFired(0, deadline));

/** The host records the leaveQueue activity (task `id`) scheduled at `scheduledAt`; it answers `result` at `answeredAt`. */
function leaveAnswered(h: History, id: number, leave: unknown, scheduledAt: Date, answeredAt: Date, result: unknown): Promise<OrchestratorState> {
  h.close(scheduledAt, (e) => e.taskScheduled(id, "leaveQueue", leave)).episode(answeredAt, (e) => e.taskCompleted(id, result));
  return runEpisode(core, h);
}

const timers = (s: OrchestratorState) => leafActions(s).filter((a) => a.actionType === ActionType.CreateTimer);
const activities = (s: OrchestratorState) =>
  leafActions(s).filter((a) => a.actionType === ActionType.CallActivity || a.actionType === ActionType.CallActivityWithRetry);

describe("matchRequest orchestrator (real replay code, host-shaped histories)", () => {
  it("episode 1 waits for timer, ServerReady and Cancel at once and shows searching with the deadline", async () => {
    const s = await runEpisode(core, new History("alice", input).episode(t0));
    expect(s.isDone).toBe(false);
    expect(s.actions).toHaveLength(1);
    expect(nth(nth(s.actions, 0), 0).actionType).toBe(ActionType.WhenAny);
    const leaves = leafActions(s);
    expect(leaves.map((a) => [a.actionType, a.externalEventName ?? a.fireAt])).toEqual([
      [ActionType.CreateTimer, deadline.toISOString()],
      [ActionType.WaitForExternalEvent, "ServerReady"],
      [ActionType.WaitForExternalEvent, "Cancel"],
    ]);
    expect(s.customStatus).toEqual({ status: "searching", ticketId: "tkt-1", deadline: deadline.toISOString() });
  });

  it("matched: ServerReady for its ticket completes in the second episode, with no activity, timer cancelled", async () => {
    let episodes = 0;
    const h = new History("alice", input).episode(t0);
    const first = await runEpisode(core, h);
    episodes++;
    expect(first.isDone).toBe(false);
    h.close(t0, (e) => e.timerCreated(0, deadline)).episode(at(5), (e) => e.eventRaised("ServerReady", serverReady("tkt-1")));
    const second = await runEpisode(core, h);
    episodes++;
    expect(second.isDone).toBe(true);
    expect(second.output).toEqual(matchedOutput);
    expect(second.customStatus).toEqual({ status: "matched", ticketId: "tkt-1" });
    expect(activities(second)).toEqual([]);
    expect(timers(second).every((t) => t.isCanceled)).toBe(true);
    expect(episodes).toBe(2);
  });

  it("timed out: the timer fires, leaveQueue is scheduled, and its 'left' answer completes as timedOut", async () => {
    const h = timedOut();
    const s2 = await runEpisode(core, h);
    expect(s2.isDone).toBe(false);
    const acts = activities(s2);
    expect(acts).toHaveLength(1);
    const leave = nth(acts, 0);
    expect(leave.functionName).toBe("leaveQueue");
    expect(leave.input).toEqual({ playerId: "alice", ticketId: "tkt-1", region: "westeurope", reason: "timedOut" });
    const s3 = await leaveAnswered(h, 1, leave.input, deadline, at(61), {
      outcome: "left",
      playerId: "alice",
      ticketId: "tkt-1",
      reason: "timedOut",
      sessionId: "westeurope.1",
    });
    expect(s3.isDone).toBe(true);
    expect(s3.output).toEqual({ status: "timedOut", ticketId: "tkt-1" });
    expect(s3.customStatus).toEqual({ status: "timedOut", ticketId: "tkt-1" });
  });

  it("the leave carries the ticket's requestedAt from the input (the store's guard against a late leave of an old ticket)", async () => {
    const requestedAt = t0.toISOString();
    const h = new History("alice", { ...input, requestedAt }).episode(t0).close(t0, (e) => e.timerCreated(0, deadline));
    h.episode(deadline, (e) => e.timerFired(0, deadline));
    const leave = nth(activities(await runEpisode(core, h)), 0);
    expect(leave.input).toEqual({ playerId: "alice", ticketId: "tkt-1", region: "westeurope", reason: "timedOut", requestedAt });
  });

  it("cancelled: Cancel for its ticket cancels the timer, leaves with reason cancelled and completes as cancelled", async () => {
    const h = started().episode(at(10), (e) => e.eventRaised("Cancel", { ticketId: "tkt-1" }));
    const s2 = await runEpisode(core, h);
    expect(s2.isDone).toBe(false);
    expect(timers(s2).every((t) => t.isCanceled)).toBe(true);
    const acts = activities(s2);
    expect(acts.map((a) => (a.input as { reason: string }).reason)).toEqual(["cancelled"]);
    const s3 = await leaveAnswered(h, 1, nth(acts, 0).input, at(10), at(11), {
      outcome: "alreadyLeft",
      playerId: "alice",
      ticketId: "tkt-1",
      reason: "cancelled",
    });
    expect(s3.isDone).toBe(true);
    expect(s3.output).toEqual({ status: "cancelled", ticketId: "tkt-1" });
  });

  it("timeout racing an assignment: the leave finds the session assigned, so the player is matched, not timed out", async () => {
    const h = timedOut();
    const s2 = await runEpisode(core, h);
    const acts = activities(s2);
    const s3 = await leaveAnswered(h, 1, nth(acts, 0).input, deadline, at(61), { outcome: "assigned", playerId: "alice", ticketId: "tkt-1", assignment });
    expect(s3.isDone).toBe(true);
    expect(s3.output).toEqual(matchedOutput);
  });

  it("a ServerReady for an older ticket (and a Cancel for another ticket) is ignored: it waits again until the same deadline", async () => {
    const h = started().episode(at(3), (e) => e.eventRaised("ServerReady", serverReady("tkt-OLD", "westeurope.0")));
    const s2 = await runEpisode(core, h);
    expect(s2.isDone).toBe(false);
    expect(activities(s2)).toEqual([]);
    // A fresh wait: a second timer for the SAME deadline (never a reused task) and new event waiters.
    const t2 = timers(s2);
    expect(t2.map((t) => t.fireAt)).toEqual([deadline.toISOString(), deadline.toISOString()]);
    h.close(at(3), (e) => e.timerCreated(1, deadline)).episode(at(4), (e) => e.eventRaised("Cancel", { ticketId: "tkt-OLD" }));
    const s3 = await runEpisode(core, h);
    expect(s3.isDone).toBe(false);
    expect(activities(s3)).toEqual([]);
    h.close(at(4), (e) => e.timerCreated(2, deadline)).episode(at(8), (e) => e.eventRaised("ServerReady", serverReady("tkt-1")));
    const s4 = await runEpisode(core, h);
    expect(s4.isDone).toBe(true);
    expect(s4.output).toEqual(matchedOutput);
    // Every timer it created is cancelled, so the instance completes now rather than at the deadline.
    expect(timers(s4)).toHaveLength(3);
    expect(timers(s4).every((t) => t.isCanceled)).toBe(true);
  });

  it("an ignored event followed by the timeout leaves the queue once, with the timer of the latest wait", async () => {
    const h = started()
      .episode(at(3), (e) => e.eventRaised("ServerReady", serverReady("tkt-OLD")))
      .close(at(3), (e) => e.timerCreated(1, deadline))
      // Both timers (same deadline) fire: the stale one is harmless, the current one ends the wait.
      .episode(deadline, (e) => e.timerFired(0, deadline).timerFired(1, deadline));
    const s = await runEpisode(core, h);
    expect(s.isDone).toBe(false);
    expect(activities(s).map((a) => (a.input as { reason: string }).reason)).toEqual(["timedOut"]);
  });

  it("duplicate events are harmless: two ServerReady in one episode complete once with the first; events after the match change nothing", async () => {
    const h = started().episode(at(5), (e) =>
      e
        .eventRaised("ServerReady", serverReady("tkt-1"))
        .eventRaised("ServerReady", serverReady("tkt-1", "westeurope.7"))
        .eventRaised("Cancel", { ticketId: "tkt-1" }),
    );
    const s = await runEpisode(core, h);
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual(matchedOutput);
    expect(activities(s)).toEqual([]);
  });

  it("duplicate Cancel events schedule a single leave", async () => {
    const h = started().episode(at(10), (e) => e.eventRaised("Cancel", { ticketId: "tkt-1" }).eventRaised("Cancel", { ticketId: "tkt-1" }));
    const s = await runEpisode(core, h);
    expect(activities(s)).toHaveLength(1);
  });

  it("a failed leave is retried after a durable timer instead of failing the instance at once", async () => {
    const h = timedOut();
    const s2 = await runEpisode(core, h);
    const acts = activities(s2);
    // The library's callActivityWithRetry: the extension runs the retry timers (2 s, then doubling, at most 30 s).
    expect(acts.map((a) => a.actionType)).toEqual([ActionType.CallActivityWithRetry]);
    expect((nth(acts, 0) as { retryOptions?: unknown }).retryOptions).toMatchObject({
      firstRetryIntervalInMilliseconds: 2000,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: 30_000,
    });
    h.close(deadline, (e) => e.taskScheduled(1, "leaveQueue", nth(acts, 0).input)).episode(at(61), (e) => e.taskFailed(1, "Redis unavailable"));
    const s3 = await runEpisode(core, h);
    expect(s3.isDone).toBe(false); // one failure does not fail the instance
    expect(s3.error).toBeUndefined();
    // The extension's retry: a durable timer 2 s of orchestration time later, then the activity again.
    h.close(at(61), (e) => e.timerCreated(2, at(63))).episode(at(63), (e) => e.timerFired(2, at(63)));
    const s4 = await runEpisode(core, h);
    expect(s4.isDone).toBe(false);
    const s5 = await leaveAnswered(h, 3, nth(acts, 0).input, at(63), at(64), { outcome: "left", playerId: "alice", ticketId: "tkt-1", reason: "timedOut" });
    expect(s5.isDone).toBe(true);
    expect(s5.output).toEqual({ status: "timedOut", ticketId: "tkt-1" });
  });

  it("works with the V1 replay schema too (flattened actions)", async () => {
    const h = new History("alice", input).episode(t0);
    const s1 = await runEpisode(core, h, { upper: 0 });
    expect(nth(s1.actions, 0).map((a) => a.actionType)).toEqual([ActionType.CreateTimer, ActionType.WaitForExternalEvent, ActionType.WaitForExternalEvent]);
    h.close(t0, (e) => e.timerCreated(0, deadline)).episode(at(5), (e) => e.eventRaised("ServerReady", serverReady("tkt-1")));
    const s2 = await runEpisode(core, h, { upper: 0 });
    expect(s2.isDone).toBe(true);
    expect(s2.output).toEqual(matchedOutput);
  });
});
