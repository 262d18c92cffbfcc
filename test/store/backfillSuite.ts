/**
 * Backfill (issue 14, DESIGN.md section 6): a running game asks for players and waiting tickets that fit
 * join it before they can start new sessions. Against a standalone redis-server and a 3-master cluster
 * (backfill.standalone.test.ts, backfill.cluster.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnqueueRequest, RedisConnection } from "../../src/store";
import { checkInvariants, connect, makeStore, RawRegion, REGION, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";
import { regionKey } from "../../src/store/keys";
import { seededRandom } from "../../tools/seededRandom";

export function defineBackfillSuite(targetName: string, getTarget: () => StoreTarget): void {
  describe(`backfill on ${targetName}`, () => {
    let redis: RedisConnection;
    beforeAll(async () => {
      redis = await connect(getTarget());
    });
    afterAll(async () => {
      await redis.close();
    });

    function fresh(o: { serverLeaseSeconds?: number } = {}) {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      const store = makeStore(redis, clock, { prefix, modes: RULES_MODES, ...o });
      const raw = new RawRegion(redis, prefix);
      const players = new Set<string>();
      let n = 0;
      const req = (playerId: string, mode = "squad", extra: Partial<EnqueueRequest> = {}): EnqueueRequest => {
        players.add(playerId);
        for (const m of extra.party ?? []) players.add(m.playerId);
        return { ticketId: `tk-${playerId}-${++n}`, playerId, mode, region: REGION, requestedAtMs: clock.ms, ...extra };
      };
      const invariants = async () => [...(await checkInvariants(raw, RULES_SIZES, players)), ...(await checkRulesInvariants(raw, RULES, players))];
      let servers = 0;
      const server = async (id: string) => store.registerServer({ serverId: id, region: REGION, address: `10.0.0.${++servers}:7777` });
      /** A running game of `mode` on server `id` with the given players (they are matched to it). */
      const game = async (id: string, pids: string[], mode = "squad", extra: (pid: string) => Partial<EnqueueRequest> = () => ({})) => {
        await server(id);
        await store.enqueue(pids.map((p) => req(p, mode, extra(p))));
        const a = (await store.assign(REGION)).assigned.find((x) => x.serverId === id);
        if (!a) throw new Error(`no game on ${id}`);
        return a;
      };
      return { clock, prefix, store, raw, req, invariants, server, game, players };
    }

    it("a 4-player game that lost a player gets exactly one replacement when a fitting ticket arrives", async () => {
      const { store, req, game, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      const bf = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      expect(bf).toMatchObject({ outcome: "requested", sessionId: a.sessionId, mode: "squad", slots: [1], region: REGION });
      // Nobody waits yet: nothing to join.
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      await store.enqueue([req("r1"), req("r2"), req("r3")]);
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins).toHaveLength(1);
      const join = fill.joins[0]!;
      expect(join.joined.map((p) => p.playerId)).toEqual(["r1"]); // the oldest waiting ticket, one only
      expect(join).toMatchObject({ sessionId: a.sessionId, serverId: "s1", address: a.address, backfillId: bf.outcome === "requested" && bf.backfillId });
      expect(join.players.map((p) => p.playerId).sort()).toEqual(["a1", "a2", "a3", "a4", "r1"]);
      expect(fill.completed).toEqual([bf.outcome === "requested" && bf.backfillId]);
      // The joined player's ticket says matched to s1, and the server's allocation lists it.
      expect(await store.getPlayer(REGION, "r1")).toMatchObject({ state: "matched", serverId: "s1", sessionId: a.sessionId });
      const alloc = await store.getServer(REGION, "s1");
      expect(alloc?.session?.players.map((p) => p.playerId)).toContain("r1");
      // The request was for one player: the next pass takes nobody, the others keep waiting.
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      expect((await store.getPlayer(REGION, "r2"))?.state).toBe("waiting");
      expect(await invariants()).toEqual([]);
    });

    it("a new request replaces the open one: only its slots count", async () => {
      const { store, req, game, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      const first = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [3] });
      const second = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      if (first.outcome !== "requested" || second.outcome !== "requested") throw new Error("not requested");
      expect(second.replacedBackfillId).toBe(first.backfillId);
      expect(second.backfillId).not.toBe(first.backfillId);
      await store.enqueue([req("r1"), req("r2"), req("r3")]);
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["r1"]);
      expect(fill.joins[0]!.backfillId).toBe(second.backfillId);
      expect(await invariants()).toEqual([]);
    });

    it("a retry with the same requestId changes nothing, also after the request was filled; another requestId is a new request", async () => {
      const { store, req, game, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      const first = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1], requestId: "left-a4" });
      await store.enqueue([req("r1"), req("r2"), req("r3")]);
      expect((await store.fillBackfills(REGION)).joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["r1"]);
      // The server's retry of the same request (its first answer was lost): answered as it was, nobody else joins.
      const retry = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1], requestId: "left-a4" });
      expect(retry).toEqual({ ...first, repeated: true });
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      // Another departure: a new request.
      const next = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1], requestId: "left-a3" });
      expect(next).toMatchObject({ outcome: "requested", slots: [1] });
      expect(next.outcome === "requested" && next.repeated).toBeFalsy();
      expect((await store.fillBackfills(REGION)).joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["r2"]);
      await expect(store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1], requestId: "a b" })).rejects.toMatchObject({
        error: "invalid_requestId",
      });
      expect(await invariants()).toEqual([]);
    });

    it("a server that dies with an open backfill frees every waiting player: they start a game on another server", async () => {
      const { store, clock, req, game, raw, server, invariants } = fresh({ serverLeaseSeconds: 30 });
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [2] });
      clock.advance(31_000); // s1 fell silent: its lease ran out
      await server("s2");
      await store.enqueue(["w1", "w2", "w3", "w4"].map((p) => req(p)));
      // A dead server gets nobody, before or after the sweep retires it ...
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      const expired = await store.expireServers(REGION);
      expect(expired.lostSessions).toEqual([a.sessionId]);
      expect(await raw.zmembers("Backfills")).toEqual([]);
      expect(await raw.exists("Backfill", a.sessionId)).toBe(false);
      // ... and the waiting players are matched among themselves on the live server.
      const assigned = await store.assign(REGION);
      expect(assigned.assigned).toHaveLength(1);
      expect(assigned.assigned[0]).toMatchObject({ serverId: "s2" });
      expect(assigned.assigned[0]!.players.map((p) => p.playerId).sort()).toEqual(["w1", "w2", "w3", "w4"]);
      expect(await invariants()).toEqual([]);
    });

    it("release, deregister and cancel end the request; a cancel is idempotent", async () => {
      const { store, req, game, raw, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      const b = await game("s2", ["b1", "b2", "b3", "b4"]);
      const c = await game("s3", ["c1", "c2", "c3", "c4"]);
      for (const [id, g] of [
        ["s1", a],
        ["s2", b],
        ["s3", c],
      ] as const)
        await store.requestBackfill({ serverId: id, sessionId: g.sessionId, slots: [1] });
      expect((await raw.zmembers("Backfills")).sort()).toEqual([a.sessionId, b.sessionId, c.sessionId].sort());
      await store.releaseServer({ serverId: "s1", sessionId: a.sessionId });
      await store.deregisterServer({ serverId: "s2" });
      expect(await store.cancelBackfill({ serverId: "s3" })).toMatchObject({ outcome: "cancelled", sessionId: c.sessionId });
      expect(await store.cancelBackfill({ serverId: "s3" })).toMatchObject({ outcome: "none" });
      expect(await raw.zmembers("Backfills")).toEqual([]);
      await store.enqueue([req("w1")]);
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      expect((await store.getPlayer(REGION, "w1"))?.state).toBe("waiting");
      expect(await invariants()).toEqual([]);
    });

    it("is refused for a server that runs another session, runs none, or slots the mode cannot hold", async () => {
      const { store, game, server } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      await server("idle");
      expect(await store.requestBackfill({ serverId: "s1", sessionId: `${REGION}.999`, slots: [1] })).toEqual({
        outcome: "sessionMismatch",
        currentSessionId: a.sessionId,
      });
      expect(await store.requestBackfill({ serverId: "idle", sessionId: a.sessionId, slots: [1] })).toEqual({ outcome: "notAllocated" });
      expect(await store.requestBackfill({ serverId: "nobody", sessionId: a.sessionId, slots: [1] })).toEqual({ outcome: "notFound" });
      expect(await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [5] })).toMatchObject({
        outcome: "rejected",
        error: "invalid_slots",
      });
      expect(await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1, 1] })).toMatchObject({
        outcome: "rejected",
        error: "invalid_slots",
      });
      await expect(store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [0] })).rejects.toMatchObject({ error: "invalid_slots" });
      await expect(store.requestBackfill({ serverId: "s1", sessionId: "nope", slots: [1] })).rejects.toMatchObject({ error: "invalid_sessionId" });
    });

    it("takes players from a ready session before it gets a server (priority over new sessions); the session reopens", async () => {
      const { store, req, game, server, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      const queued = await store.enqueue(["w1", "w2", "w3", "w4"].map((p) => req(p)));
      expect(queued.readySessions).toHaveLength(1);
      await server("s2");
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["w1"]);
      // The group it came from is short again: no new game for it yet.
      expect((await store.assign(REGION)).assigned).toEqual([]);
      expect((await store.getPlayer(REGION, "w2"))?.state).toBe("waiting");
      await store.enqueue([req("w5")]);
      expect((await store.assign(REGION)).assigned[0]?.players.map((p) => p.playerId).sort()).toEqual(["w2", "w3", "w4", "w5"]);
      expect(await invariants()).toEqual([]);
    });

    it("skill windows apply to the players already in the game; per-team slots and parties are honoured", async () => {
      const { store, req, game, clock, invariants } = fresh();
      // 5v5 ranked around skill 1000 (window 200 before widening).
      const pids = Array.from({ length: 10 }, (_, i) => `g${i}`);
      const skillOf = (p: string) => 950 + 10 * Number(p.slice(1));
      const a = await game("s1", pids, "ranked", (p) => ({ skill: skillOf(p) }));
      const team1 = a.teams![1]!.players;
      expect(team1).toHaveLength(5);
      // Team 1 lost two players: two slots there, none in team 0.
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [0, 2] });
      await store.enqueue([
        req("far", "ranked", { skill: 1400 }), // 1400 - 950 = 450 > 200: too far from the game's players
        req("trio", "ranked", {
          skill: 1000,
          party: [
            { playerId: "t2", skill: 1000 },
            { playerId: "t3", skill: 1000 },
          ],
        }), // 3 > 2 slots
      ]);
      clock.advance(1000);
      await store.enqueue([req("near", "ranked", { skill: 1020 }), req("near2", "ranked", { skill: 1100 })]);
      const fill = await store.fillBackfills(REGION);
      const joined = fill.joins.flatMap((j) => j.joined.map((p) => p.playerId));
      expect(joined.sort()).toEqual(["near", "near2"]);
      const after = fill.joins.at(-1)!;
      expect(after.teams![1]!.players).toEqual([...team1, "near", "near2"]);
      expect(after.teams![0]!.players).toEqual(a.teams![0]!.players);
      expect(after.quality!.skillSpread).toBe(1100 - 950);
      expect((await store.getPlayer(REGION, "far"))?.state).toBe("waiting");
      expect((await store.getPlayer(REGION, "t2"))?.state).toBe("waiting");
      expect(await store.getPlayer(REGION, "near")).toMatchObject({ state: "matched", serverId: "s1", team: 1 });
      expect(await invariants()).toEqual([]);
    });

    it("skill modes look near the game's skill, not only at the oldest waiting sessions", async () => {
      const { store, req, game, clock, invariants } = fresh();
      const a = await game("s1", ["g0", "g1"], "duo", (p) => ({ skill: 3000 + Number(p.slice(1)) }));
      // Fifteen older sessions far below the game's skill (each alone: 150 apart, window 100), then one near it.
      await store.enqueue(Array.from({ length: 15 }, (_, i) => req(`low${i}`, "duo", { skill: i * 150 })));
      clock.advance(1000);
      await store.enqueue([req("near", "duo", { skill: 3010 })]);
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["near"]);
      expect(await invariants()).toEqual([]);
    });

    it("a broken backfill entry never stops the rest of the pass: it is dropped and reported", async () => {
      const { store, req, game, raw, prefix, invariants } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      const b = await game("s2", ["b1", "b2", "b3", "b4"]);
      const c = await game("s3", ["c1", "c2", "c3", "c4"]);
      for (const [id, g] of [
        ["s1", a],
        ["s2", b],
        ["s3", c],
      ] as const)
        await store.requestBackfill({ serverId: id, sessionId: g.sessionId, slots: [1] });
      // s1's entry is garbage, s2's names a mode no longer configured, one more points at a session that is gone.
      const k = (sid: string) => regionKey(prefix, REGION, "Backfill", sid);
      await redis.command(k(a.sessionId), ["HSET", k(a.sessionId), "slots", "x,y"]);
      await redis.command(k(b.sessionId), ["HSET", k(b.sessionId), "mode", "retired"]);
      const ghost = `${REGION}.9999`;
      await redis.command(k(ghost), [
        "HSET",
        k(ghost),
        "backfillId",
        `${REGION}.b99`,
        "serverId",
        "s9",
        "mode",
        "squad",
        "slots",
        "1",
        "requestedAt",
        "1",
        "seq",
        "0",
      ]);
      const zk = regionKey(prefix, REGION, "Backfills");
      await redis.command(zk, ["ZADD", zk, "0", ghost]);
      await store.enqueue([req("w1")]);
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins.map((j) => [j.sessionId, j.joined.map((p) => p.playerId)])).toEqual([[c.sessionId, ["w1"]]]);
      expect(fill.dropped.map((d) => d.sessionId).sort()).toEqual([a.sessionId, b.sessionId, ghost].sort());
      expect(await raw.zmembers("Backfills")).toEqual([]);
      expect(await invariants()).toEqual([]);
    });

    it("the joins' announcements stay in the outbox until confirmed; a repeated pass joins nobody twice", async () => {
      const { store, req, game, clock } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [2] });
      await store.enqueue([req("w1"), req("w2")]);
      const fill = await store.fillBackfills(REGION);
      expect(fill.joins).toHaveLength(1);
      expect((await store.fillBackfills(REGION)).joins).toEqual([]);
      clock.advance(20_000);
      const claimed = await store.claimBackfillJoins(REGION, { olderThanMs: 10_000 });
      expect(claimed.map((j) => j.joinId)).toEqual([fill.joins[0]!.joinId]);
      expect(claimed[0]!.joined.map((p) => p.playerId)).toEqual(["w1", "w2"]);
      // Re-stamped: not claimed again at once.
      expect(await store.claimBackfillJoins(REGION, { olderThanMs: 10_000 })).toEqual([]);
      await store.confirmBackfillJoins(REGION, [fill.joins[0]!.joinId]);
      clock.advance(20_000);
      expect(await store.claimBackfillJoins(REGION, { olderThanMs: 10_000 })).toEqual([]);
    });

    it("backfills and new sessions competing for the same tickets never share a player (concurrent intake, fill and assign)", async () => {
      const { store, req, game, server, invariants, players } = fresh();
      const random = seededRandom(14);
      const games = [];
      for (let g = 0; g < 6; g++)
        games.push(
          await game(
            `g${g}`,
            [0, 1, 2, 3].map((i) => `g${g}p${i}`),
          ),
        );
      for (const [g, a] of games.entries()) await store.requestBackfill({ serverId: `g${g}`, sessionId: a.sessionId, slots: [1 + (g % 2)] });
      for (let s = 0; s < 10; s++) await server(`free${s}`);
      const seen = new Map<string, string>(); // player -> where it was sent
      const note = (where: string, pids: string[]) => {
        for (const p of pids) {
          if (seen.has(p)) throw new Error(`player ${p} sent to ${seen.get(p)} and ${where}`);
          seen.set(p, where);
        }
      };
      const work: Promise<void>[] = [];
      for (let b = 0; b < 10; b++) {
        const batch = Array.from({ length: 4 }, (_, i) => req(`w${b}-${i}`));
        work.push(
          (async () => {
            await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
            await store.enqueue(batch);
            const [fill, assigned] = await Promise.all([store.fillBackfills(REGION), store.assign(REGION)]);
            for (const j of fill.joins)
              note(
                `backfill ${j.sessionId}`,
                j.joined.map((p) => p.playerId),
              );
            for (const x of assigned.assigned)
              note(
                `new ${x.sessionId}`,
                x.players.map((p) => p.playerId),
              );
          })(),
        );
      }
      await Promise.all(work);
      const last = await store.fillBackfills(REGION);
      for (const j of last.joins)
        note(
          `backfill ${j.sessionId}`,
          j.joined.map((p) => p.playerId),
        );
      for (const x of (await store.assign(REGION)).assigned)
        note(
          `new ${x.sessionId}`,
          x.players.map((p) => p.playerId),
        );
      // Every backfill slot was filled (9 in all), and the 40 players all went somewhere or still wait.
      expect([...seen.values()].filter((w) => w.startsWith("backfill")).length).toBe(9);
      for (const p of players) {
        if (p.startsWith("g")) continue;
        const view = await store.getPlayer(REGION, p);
        if (seen.has(p)) expect(view?.state, p).toBe("matched");
        else expect(view?.state, p).toBe("waiting");
      }
      expect(await invariants()).toEqual([]);
    });
  });
}
