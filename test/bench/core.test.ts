/**
 * The core throughput runs measure what they claim: every player is enqueued, grouped and assigned, and the
 * counted round trips match the calls made. Small numbers; no timing is asserted (that is the bench's job).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { runOurThroughput, runReferenceThroughput, scenarioPlayers } from "../../bench/core";
import { connect, type RawClient } from "../../bench/redisProbe";
import { STORE_CALL_LIMITS } from "../../src/store";

const tag = `t-${randomUUID().slice(0, 8)}`;
let admin: RawClient;
beforeAll(async () => {
  admin = await connect(inject("redisUrl"));
});
afterAll(async () => {
  await admin.close();
});

describe("core throughput runs", () => {
  it("deal players so every bucket fills whole sessions in whole batches", () => {
    expect(scenarioPlayers({ sessionSize: 8, buckets: 100, players: 1000, consumers: 4, batchSize: 100 })).toBe(800);
    expect(scenarioPlayers({ sessionSize: 4, buckets: 10, players: 16_000, consumers: 4, batchSize: 100 })).toBe(16_000);
    expect(scenarioPlayers({ sessionSize: 8, buckets: 10, players: 1000, consumers: 4, batchSize: 100 })).toBe(1200);
  });

  it("ours: every player is assigned, one store call carries a whole batch", async () => {
    const r = await runOurThroughput(inject("redisUrl"), admin, { sessionSize: 4, buckets: 10, players: 800, consumers: 2, batchSize: 100 }, `${tag}-o`, {
      flush: false,
    });
    expect(r.players).toBe(800);
    expect(r.assignedPlayers).toBe(800);
    expect(r.notes).toEqual([]);
    // 8 enqueue calls + at least one assign pass: between 8 and 8 + 2 x passes calls for 800 players, plus the
    // extra assign calls of a pass that has more ready players than one script call takes (the store loops).
    expect(r.roundTripsPerPlayer).toBeGreaterThanOrEqual((8 + 1) / 800);
    expect(r.roundTripsPerPlayer).toBeLessThanOrEqual((8 + 2 * r.assignPasses + Math.ceil(800 / STORE_CALL_LIMITS.assignPlayers)) / 800);
    expect(r.playersPerSec).toBeGreaterThan(0);
  });

  it("ours, ranked5v5: parties and skills, every player matched in sessions of 10", async () => {
    const r = await runOurThroughput(
      inject("redisUrl"),
      admin,
      { sessionSize: 10, buckets: 10, players: 1000, consumers: 2, batchSize: 100, rules: "ranked5v5" },
      `${tag}-r5`,
      { flush: false },
    );
    expect(r.players).toBe(1000);
    expect(r.assignedPlayers).toBe(1000);
    expect(r.notes).toEqual([]);
  });

  it("reference: whole sessions assigned, 5 awaited calls per player plus the timer's", async () => {
    const r = await runReferenceThroughput(inject("redisUrl"), admin, { sessionSize: 4, buckets: 1, players: 400, consumers: 1, batchSize: 100 }, `${tag}-r`, {
      flush: false,
    });
    // Even one consumer races the concurrent timer (SDIFF can see a session FlushSession is removing), as the
    // C# sample does: players may be stranded, and the bench must say so.
    expect(r.assignedPlayers % 4).toBe(0);
    expect(r.assignedPlayers).toBeGreaterThan(0);
    expect(r.lostPlayers).toBe(400 - r.assignedPlayers);
    expect(r.failedPlayers).toBeLessThanOrEqual(r.lostPlayers!);
    // addPlayers: 5 per player; the timer: SPOP, HGET, SSCAN players, HGET bucket, DEL, DEL = 6 per session (+ SSCAN pages).
    // Plus one SSCAN page of SessionsReady per timer pass (empty passes included, as ours counts its own).
    const sessions = r.assignedPlayers / 4;
    // (A player failed by the race stops after 3 calls; assigned ones made all 5.)
    expect(r.roundTripsPerPlayer * 400).toBeGreaterThanOrEqual(5 * r.assignedPlayers + 3 * (400 - r.assignedPlayers) + 6 * sessions + r.assignPasses);
    expect(r.roundTripsPerPlayer * 400).toBeLessThanOrEqual(5 * 400 + 6 * sessions + 2 * r.assignPasses);
  });
});

describe("median run", () => {
  it("reports the run with the median players/s and keeps every run's rate", async () => {
    const { medianRun } = await import("../../bench/core.js");
    const mk = (v: number) => ({ playersPerSec: v, notes: [String(v)] }) as unknown as Parameters<typeof medianRun>[0][number];
    const m = medianRun([mk(30), mk(10), mk(20)]);
    expect(m.playersPerSec).toBe(20);
    expect(m.notes).toEqual(["20"]);
    expect(m.runsPlayersPerSec).toEqual([30, 10, 20]);
    expect(medianRun([mk(5)]).playersPerSec).toBe(5);
  });
});
