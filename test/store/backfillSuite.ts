/**
 * Backfill (issue 14, DESIGN.md section 6): a running game asks for players and waiting tickets that fit
 * join it before they can start new sessions. Against a standalone redis-server and a 3-master cluster
 * (backfill.standalone.test.ts, backfill.cluster.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnqueueRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import { BackfillDesk, type BackfillDeskOptions } from "../../src/store/backfills";
import { checkInvariants, connect, makeStore, RawRegion, REGION, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";
import { latencyPoolPrefix, regionKey } from "../../src/store/keys";
import type { ModeSpec } from "../../src/domain/modeRules";
import { seededRandom } from "../../tools/seededRandom";

/** Where each player was sent (player -> where); `note` throws when a player is sent a second place. */
function placements() {
  const seen = new Map<string, string>();
  const note = (where: string, pids: string[]) => {
    for (const p of pids) {
      if (seen.has(p)) throw new Error(`player ${p} sent to ${seen.get(p)} and ${where}`);
      seen.set(p, where);
    }
  };
  return { seen, note };
}

/** Six 4-player games on servers g0..g5 (g<n>p0..3), then each asks for 1 or 2 players (9 in all). */
async function sixGamesAsking(store: MatchmakingStore, game: (id: string, pids: string[]) => Promise<{ sessionId: string }>): Promise<void> {
  const games = [];
  for (let g = 0; g < 6; g++)
    games.push(
      await game(
        `g${g}`,
        [0, 1, 2, 3].map((i) => `g${g}p${i}`),
      ),
    );
  for (const [g, a] of games.entries()) await store.requestBackfill({ serverId: `g${g}`, sessionId: a.sessionId, slots: [1 + (g % 2)] });
}

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

    it("an enqueue says where a fill may have work: its region only while a request is open there", async () => {
      const { store, req, game } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      expect((await store.enqueue([req("w1")])).backfillRegions).toEqual([]);
      const bf = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [2] });
      expect(bf.outcome).toBe("requested");
      // w1 joins at the first fill; the request waits for one more.
      expect((await store.fillBackfills(REGION)).joins).toHaveLength(1);
      expect((await store.enqueue([req("w2")])).backfillRegions).toEqual([REGION]);
      expect((await store.fillBackfills(REGION)).completed).toHaveLength(1);
      // Filled, so closed: nothing for a fill after the next batch.
      expect((await store.enqueue([req("w3")])).backfillRegions).toEqual([]);
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
      await sixGamesAsking(store, game);
      for (let s = 0; s < 10; s++) await server(`free${s}`);
      const { seen, note } = placements();
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

  describe(`backfill from the latency pool on ${targetName}`, () => {
    let redis: RedisConnection;
    beforeAll(async () => {
      redis = await connect(getTarget());
    });
    afterAll(async () => {
      await redis.close();
    });
    // geo4: 4 solo players by latency (max 60 ms, 100 after 10 s, 200 after 30 s); geoparty: parties of 2 too.
    const latency = {
      max: 60,
      widen: [
        { afterSeconds: 10, max: 100 },
        { afterSeconds: 30, max: 200 },
      ],
    };
    const MODES: Record<string, ModeSpec> = {
      squad: 4,
      geo4: { teamSize: 4, latency },
      geoparty: { teamSize: 4, maxPartySize: 2, latency },
      geoskill: { teamSize: 4, skill: { window: 100, widen: [] }, latency },
    };
    const WEU = "westeurope";
    const REGIONS = [WEU, "northeurope", "japaneast"];
    const ZONES = { westeurope: "eu", northeurope: "eu" };

    function fresh() {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      // Leases outlive the waits the tests advance the clock by (a server past its lease gets nobody).
      const store = makeStore(redis, clock, { prefix, modes: MODES, regions: REGIONS, zones: ZONES, serverLeaseSeconds: 600 });
      const raw = new RawRegion(redis, prefix, WEU, ZONES);
      const pool = latencyPoolPrefix(prefix, WEU, ZONES);
      const poolCmd = <T>(name: string, args: string[]) => redis.command<T>(`${pool}${name}`, [args[0]!, `${pool}${name}`, ...args.slice(1)]);
      const poolRecord = async (pid: string) => {
        const flat = await poolCmd<string[]>(`Player:${pid}`, ["HGETALL"]);
        const o: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
        return o;
      };
      const pooled = (mode: string) => poolCmd<string[]>(`Waiting:${mode}`, ["ZRANGE", "0", "-1"]);
      let n = 0;
      const req = (playerId: string, latencies: Record<string, number>, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
        ticketId: `tk-${playerId}-${++n}`,
        playerId,
        mode: "geo4",
        region: Object.entries(latencies).sort((a, b) => a[1] - b[1])[0]![0],
        requestedAtMs: clock.ms,
        latencies,
        ...extra,
      });
      let port = 7000;
      const server = (serverId: string, region = WEU) => store.registerServer({ serverId, region, address: `10.0.0.1:${++port}` });
      /** A running game of `mode` in westeurope on server `id`, its players placed from the pool at 20 ms. */
      const game = async (id: string, pids: string[], mode = "geo4", skill?: number) => {
        await server(id);
        const out = await store.enqueue(pids.map((p) => req(p, { westeurope: 20 }, { mode, ...(skill !== undefined ? { skill } : {}) })));
        expect(out.readySessions).toHaveLength(1);
        const a = (await store.assign(WEU)).assigned.find((x) => x.serverId === id);
        if (!a) throw new Error(`no game on ${id}`);
        return a;
      };
      return { clock, prefix, store, raw, req, server, game, poolRecord, pooled, pool, poolCmd };
    }

    it("a latency-mode game that lost a player gets a pooled ticket within the latency max; it leaves the pool", async () => {
      const { store, req, game, poolRecord, pooled, poolCmd, raw } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      expect(a.playerLatencies).toMatchObject({ a1: 20 });
      const bf = await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      expect(bf).toMatchObject({ outcome: "requested", mode: "geo4" });
      // Nearer to northeurope, but within 60 ms of westeurope; one ticket forms no group: it waits in the pool.
      const r1 = req("r1", { northeurope: 10, westeurope: 40 });
      expect((await store.enqueue([r1])).results[0]).toMatchObject({ outcome: "queued", pooled: true });
      expect(await pooled("geo4")).toEqual(["r1"]);
      const fill = await store.fillBackfills(WEU);
      expect(fill.joins).toHaveLength(1);
      const join = fill.joins[0]!;
      expect(join.joined).toEqual([{ playerId: "r1", ticketId: r1.ticketId }]);
      expect(join.playerLatencies).toEqual({ a1: 20, a2: 20, a3: 20, a4: 20, r1: 40 });
      expect(fill.completed).toEqual([bf.outcome === "requested" && bf.backfillId]);
      // Gone from the pool (indexes and count); its ticket reads matched to s1, from either region of the zone.
      expect(await pooled("geo4")).toEqual([]);
      for (const r of ["westeurope", "northeurope"]) expect(await poolCmd<string[]>(`ByLatency:geo4:${r}`, ["ZRANGE", "0", "-1"])).toEqual([]);
      expect(Number(await poolCmd<string | null>("WaitingPerMode", ["HGET", "geo4"]))).toBe(0);
      expect(await poolRecord("r1")).toMatchObject({ state: "placed", region: WEU, session: a.sessionId });
      expect(await store.getPlayer("northeurope", "r1")).toMatchObject({ state: "matched", serverId: "s1", sessionId: a.sessionId, ticketId: r1.ticketId });
      expect(await raw.player("r1")).toMatchObject({ latency: "40", session: a.sessionId, ticketId: r1.ticketId });
      expect((await store.getServer(WEU, "s1"))?.session?.players.map((p) => p.playerId)).toContain("r1");
      // Nothing more to fill, and the sweep finds nothing of it to place.
      expect((await store.fillBackfills(WEU)).joins).toEqual([]);
      expect((await store.regroup(WEU)).readySessions).toEqual([]);
    });

    it("a pooled ticket over the max in force is not taken; once the max widened (its wait or the request's age) it is", async () => {
      const { store, req, game, clock, pooled } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"]);
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [2] });
      await store.enqueue([req("far", { northeurope: 10, westeurope: 90 }), req("farther", { northeurope: 10, westeurope: 150 })]);
      expect((await store.fillBackfills(WEU)).joins).toEqual([]);
      expect(await pooled("geo4")).toEqual(["far", "farther"]);
      clock.advance(9_999);
      expect((await store.fillBackfills(WEU)).joins).toEqual([]);
      // After 10 s the max is 100 ms: "far" fits, "farther" (150) not yet.
      clock.advance(1);
      const fill = await store.fillBackfills(WEU);
      expect(fill.joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["far"]);
      expect(fill.joins[0]!.playerLatencies).toMatchObject({ far: 90 });
      expect(await pooled("geo4")).toEqual(["farther"]);
      // A ticket that waited no time joins under the request's age (30 s: 200 ms), as skill windows are judged.
      clock.advance(20_000);
      await store.enqueue([req("late", { westeurope: 180, northeurope: 10 })]);
      const second = await store.fillBackfills(WEU);
      // The oldest fitting first: "farther" (waited 30 s) before "late".
      expect(second.joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["farther"]);
      expect(await pooled("geo4")).toEqual(["late"]);
    });

    it("a party in the pool joins whole or not at all", async () => {
      const { store, req, game, pooled, poolRecord, raw } = fresh();
      const a = await game("s1", ["a1", "a2", "a3", "a4"], "geoparty");
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [1] });
      const duo = req("q1", { westeurope: 30, northeurope: 5 }, { mode: "geoparty", party: [{ playerId: "q2" }] });
      await store.enqueue([duo]);
      expect(await pooled("geoparty")).toEqual(["q1"]);
      // One slot: the party of two does not fit, and is not split.
      expect((await store.fillBackfills(WEU)).joins).toEqual([]);
      expect(await pooled("geoparty")).toEqual(["q1"]);
      expect((await poolRecord("q2")).state).toBe("waiting");
      // Two slots: both join in one join.
      await store.requestBackfill({ serverId: "s1", sessionId: a.sessionId, slots: [2] });
      const fill = await store.fillBackfills(WEU);
      expect(fill.joins).toHaveLength(1);
      expect(fill.joins[0]!.joined).toEqual([
        { playerId: "q1", ticketId: duo.ticketId },
        { playerId: "q2", ticketId: duo.ticketId },
      ]);
      expect(fill.joins[0]!.playerLatencies).toMatchObject({ q1: 30, q2: 30 });
      expect(await pooled("geoparty")).toEqual([]);
      for (const p of ["q1", "q2"]) {
        expect(await poolRecord(p)).toMatchObject({ state: "placed", session: a.sessionId });
        expect(await raw.player(p)).toMatchObject({ party: "q1,q2", session: a.sessionId });
        expect(await store.getPlayer(WEU, p)).toMatchObject({ state: "matched", serverId: "s1", party: ["q1", "q2"] });
      }
    });

    it("skill modes: a pooled unit beyond the oldest and nearest in latency is found near the game's skill, also after another game looked at it", async () => {
      const { store, req, game, clock, pooled } = fresh();
      const skilled = (pid: string, skill: number, ms: number) => req(pid, { westeurope: ms }, { mode: "geoskill", skill });
      const asking = async (id: string, pids: string[], skill: number) => {
        const a = await game(id, pids, "geoskill", skill);
        await store.requestBackfill({ serverId: id, sessionId: a.sessionId, slots: [1] });
      };
      await asking("ga", ["a1", "a2", "a3", "a4"], 1000);
      await asking("gb", ["b1", "b2", "b3", "b4"], 1150);
      // 20 older units nearer in latency, none within the window of another (no group forms) nor of a game.
      for (let i = 0; i < 20; i++) await store.enqueue([skilled(`f${i}`, 3000 + 200 * i, 10)]);
      clock.advance(1000);
      // 1120: near game a's midpoint (read for it) but 120 from its players; 30 from game b's.
      await store.enqueue([skilled("x", 1120, 50)]);
      expect(await pooled("geoskill")).toHaveLength(21);
      const fill = await store.fillBackfills(WEU);
      expect(fill.joins.map((j) => [j.serverId, j.joined.map((p) => p.playerId)])).toEqual([["gb", ["x"]]]);
      expect(await pooled("geoskill")).toHaveLength(20);
    });

    it("a lone region's pool fills its games too; a pool prefix that is not the region's is refused", async () => {
      const { store, req, server, prefix } = fresh();
      await server("j1", "japaneast");
      await store.enqueue(["j-a", "j-b", "j-c", "j-d"].map((p) => req(p, { japaneast: 20 })));
      const a = (await store.assign("japaneast")).assigned[0]!;
      await store.requestBackfill({ serverId: "j1", sessionId: a.sessionId, slots: [1] });
      await store.enqueue([req("j-r", { japaneast: 50 })]);
      expect((await store.fillBackfills("japaneast")).joins.flatMap((j) => j.joined.map((p) => p.playerId))).toEqual(["j-r"]);
      // The script takes the pool of its own slot only.
      const other = {
        prefix: latencyPoolPrefix(prefix, WEU, ZONES),
        modes: { geo4: { size: 4, teams: 1, teamSize: 4, maxPartySize: 1, latency: { max: 60, widen: [] } } },
      };
      const bad = new BackfillDesk({
        retentionMs: 1000,
        luaModes: { geo4: 4 },
        run: (name, region, args) => (store as unknown as { run: BackfillDeskOptions["run"] }).run(name, region, args),
        locate: () => Promise.resolve(null),
        latencyPool: () => other,
      });
      await expect(bad.fill("japaneast")).rejects.toThrow(/^invalid_pool: .*refused by fillBackfills/);
    });

    it("pooled tickets taken by backfills are never also placed by the pool sweep (fills, sweeps, intake concurrently)", async () => {
      const { store, req, game, server, poolRecord, pooled, prefix, clock } = fresh();
      const random = seededRandom(41);
      await sixGamesAsking(store, game);
      for (let s = 0; s < 4; s++) await server(`free${s}`, s % 2 ? "northeurope" : WEU);
      const { seen, note } = placements();
      const placed = new Set<string>();
      const all: string[] = [];
      // Lone tickets over the base max (60 ms) of either region: no group forms at intake (a wait of 0).
      const batch = (b: number) =>
        Array.from({ length: 3 }, (_, i) => {
          const pid = `w${b}-${i}`;
          all.push(pid);
          return req(pid, { westeurope: 61 + Math.floor(random() * 39), northeurope: 61 + Math.floor(random() * 39) });
        });
      for (let b = 0; b < 4; b++) await store.enqueue(batch(b));
      expect(await pooled("geo4")).toHaveLength(12);
      // After 10 s the max is 100 ms both for these 12 (the sweep may now place them in groups of 4) and for the
      // requests (the fills may take them and the newer ones): fills, sweeps and intake race for them.
      clock.advance(10_000);
      const work: Promise<void>[] = [];
      for (let b = 4; b < 8; b++) {
        const tickets = batch(b);
        work.push(
          (async () => {
            await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
            const [queued, fill, swept] = await Promise.all([store.enqueue(tickets), store.fillBackfills(WEU), store.regroup(WEU)]);
            for (const x of queued.readySessions) placed.add(`${x.region}/${x.sessionId}`);
            for (const j of fill.joins)
              note(
                `backfill ${j.sessionId}`,
                j.joined.map((p) => p.playerId),
              );
            for (const sid of swept.readySessions) placed.add(`${sid.split(".")[0]}/${sid}`);
          })(),
        );
      }
      await Promise.all(work);
      const last = await store.fillBackfills(WEU);
      for (const j of last.joins)
        note(
          `backfill ${j.sessionId}`,
          j.joined.map((p) => p.playerId),
        );
      for (const x of placed) {
        const [region, sid] = x.split("/") as [string, string];
        note(`placed ${sid}`, await new RawRegion(redis, prefix, region, ZONES).sessionMembers(sid));
      }
      // No player went to two places (note throws). Every ticket fits the requests now: a slot stays open
      // only when the pool is empty. Each player is in one place only, and its ticket says where.
      const filled = [...seen.values()].filter((w) => w.startsWith("backfill")).length;
      expect(filled).toBeGreaterThan(0);
      if (filled < 9) expect(await pooled("geo4")).toEqual([]);
      else expect(filled).toBe(9);
      const waiting = new Set(await pooled("geo4"));
      for (const p of all) {
        const rec = await poolRecord(p);
        const where = seen.get(p);
        expect(waiting.has(p), p).toBe(where === undefined);
        if (where === undefined) expect(rec.state, p).toBe("waiting");
        else {
          expect(rec.state, p).toBe("placed");
          const view = await store.getPlayer(WEU, p);
          expect(view?.sessionId, p).toBe(where.split(" ")[1]);
          if (where.startsWith("backfill")) expect(view?.state, p).toBe("matched");
        }
      }
    });
  });
}
