/**
 * Match rules in the atomic scripts (issue 11): skill windows that widen with wait, parties, teams,
 * regrouping, per-mode stats. Written once, run against a standalone redis-server and a 3-master Redis
 * Cluster (store.standalone.test.ts, store.cluster.test.ts). Real Redis; time moves by the injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatchmakingStore, type EnqueueRequest, type RedisConnection } from "../../src/store";
import { checkInvariants, connect, dumpPrefix, makeStore, RawRegion, REGION, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { prng, runConcurrencyScenario } from "./concurrencyScenario";
import { checkRulesInvariants, RULES, RULES_MODES, RULES_SIZES } from "./rulesInvariants";
import { at } from "../support/at";

export function defineRulesSuite(targetName: string, getTarget: () => StoreTarget): void {
  describe(`match rules on ${targetName}`, () => {
    let redis: RedisConnection;
    const opened: RedisConnection[] = [];
    beforeAll(async () => {
      redis = await connect(getTarget());
      opened.push(redis);
    });
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close()));
    });

    function fresh() {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      const store = makeStore(redis, clock, { prefix, modes: RULES_MODES });
      const raw = new RawRegion(redis, prefix);
      let n = 0;
      const req = (playerId: string, mode: string, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
        ticketId: `tk-${playerId}-${++n}`,
        playerId,
        mode,
        region: REGION,
        requestedAtMs: clock.ms,
        ...extra,
      });
      const ids = new Set<string>();
      const track = (rs: EnqueueRequest[]) => {
        for (const r of rs) {
          ids.add(r.playerId);
          for (const m of r.party ?? []) ids.add(m.playerId);
        }
        return rs;
      };
      const enqueue = (rs: EnqueueRequest[]) => store.enqueue(track(rs));
      const invariants = async () => [...(await checkInvariants(raw, RULES_SIZES, ids)), ...(await checkRulesInvariants(raw, RULES, ids))];
      const server = (serverId: string, port = 7777) => store.registerServer({ serverId, region: REGION, address: `10.0.0.1:${port}` });
      return { clock, prefix, store, raw, req, enqueue, invariants, server, ids };
    }

    describe("refusals", () => {
      it("skill_required, party_too_large, party_duplicate_member, party_member_live: each alone, the batch goes on, nothing written", async () => {
        const { store, enqueue, req, prefix } = fresh();
        await enqueue([req("live", "ranked", { skill: 1500 })]);
        const before = await dumpPrefix(redis, prefix);
        const refused = await enqueue([
          req("a", "ranked"),
          req("b", "ranked", { skill: 1500, party: [{ playerId: "b2" }] }),
          req("c", "ranked", { skill: 1, party: Array.from({ length: 5 }, (_, i) => ({ playerId: `c${i}`, skill: 1 })) }),
          req("d", "ranked", { skill: 1, party: [{ playerId: "d", skill: 1 }] }),
          req("e", "trio", { party: [{ playerId: "e1" }, { playerId: "e1" }] }),
          req("f", "ranked", {
            skill: 1,
            party: [
              { playerId: "f1", skill: 1 },
              { playerId: "live", skill: 2 },
            ],
          }),
          req("g", "duel", { party: [{ playerId: "g1" }] }),
        ]);
        expect(refused.results.map((r) => (r.outcome === "rejected" ? r.error : r.outcome))).toEqual([
          "skill_required",
          "skill_required",
          "party_too_large",
          "party_duplicate_member",
          "party_duplicate_member",
          "party_member_live",
          "party_too_large",
        ]);
        const live = at(refused.results, 5);
        expect(live.outcome === "rejected" && live.detail).toContain("live");
        expect(await dumpPrefix(redis, prefix)).toEqual(before);
        const ok = await store.enqueue([req("a", "ranked"), req("h", "ranked", { skill: 1500, party: [{ playerId: "h1", skill: 1600 }] })]);
        expect(ok.results.map((r) => r.outcome)).toEqual(["rejected", "queued"]);
      });
    });

    describe("skill windows", () => {
      it("players too far apart do not match; a later player within the window joins the oldest fitting session", async () => {
        const { store, enqueue, req, invariants } = fresh();
        const out = await enqueue([req("a", "duo", { skill: 1000 }), req("b", "duo", { skill: 1150 }), req("c", "duo", { skill: 1060 })]);
        // b is 150 from a (window 100): its own session; c fits a (60) and b (90): a's session is older.
        const sid = (i: number) => {
          const r = at(out.results, i);
          return r.outcome === "queued" ? r.sessionId : "";
        };
        expect(sid(0)).not.toBe(sid(1));
        expect(sid(2)).toBe(sid(0));
        expect(out.readySessions.map((s) => s.sessionId)).toEqual([sid(0)]);
        expect(await invariants()).toEqual([]);
        expect(await store.regroup(REGION)).toEqual({ region: REGION, mergedSessions: [], readySessions: [] });
      });

      it("widening: a waiting player matches later with a player it could not match early (join, and the regroup sweep)", async () => {
        const { store, enqueue, req, clock, invariants, raw } = fresh();
        await enqueue([req("a", "duo", { skill: 1000 })]);
        // 300 apart: not within 100 now.
        const early = await enqueue([req("b", "duo", { skill: 1300 })]);
        expect(early.readySessions).toEqual([]);
        clock.advance(15_000);
        // After 15 s a's window is 400: a new player 300 away joins a's session.
        const late = await enqueue([req("c", "duo", { skill: 1300 })]);
        expect(late.readySessions).toHaveLength(1);
        const session = await raw.hash("Session", late.readySessions[0]!.sessionId);
        expect(JSON.parse(session.teams!)).toEqual([{ players: ["a", "c"] }]);
        expect(JSON.parse(session.quality!)).toEqual({ skillSpread: 300, teamSkillGap: 0, waitSeconds: 15 });
        expect(await invariants()).toEqual([]);

        // e (2000) and f (2300) arrive together, 300 apart (window 100): two sessions, nobody else fits them.
        const ef = await enqueue([req("e", "duo", { skill: 2000 }), req("f", "duo", { skill: 2300 })]);
        expect(ef.readySessions).toEqual([]);
        expect((await store.regroup(REGION)).readySessions).toEqual([]);
        clock.advance(15_000);
        // 15 s later e's window is 400: the sweep moves f into e's session (f's emptied session is merged away).
        const swept = await store.regroup(REGION);
        const [eSid, fSid] = ef.results.map((r) => (r.outcome === "queued" ? r.sessionId : ""));
        expect(swept).toEqual({ region: REGION, readySessions: [eSid], mergedSessions: [fSid] });
        const merged = await raw.hash("Session", eSid!);
        expect(JSON.parse(merged.teams!)).toEqual([{ players: ["e", "f"] }]);
        expect(JSON.parse(merged.quality!)).toEqual({ skillSpread: 300, teamSkillGap: 0, waitSeconds: 15 });
        expect(await raw.exists("Session", fSid)).toBe(false);
        expect((await store.getPlayer(REGION, "f"))?.sessionId).toBe(eSid);
        // b (1300) still waits alone: nobody within 400.
        expect((await store.getPlayer(REGION, "b"))?.state).toBe("waiting");
        expect(await invariants()).toEqual([]);
      });

      it("the window in force is never exceeded when a session fills (random population, moving clock, regroups)", async () => {
        const { store, enqueue, req, clock, invariants, server } = fresh();
        const rnd = prng(77);
        let p = 0;
        for (let round = 0; round < 30; round++) {
          const batch: EnqueueRequest[] = [];
          for (let i = 0; i < 12; i++) {
            const mode = rnd() < 0.6 ? "ranked" : "duo";
            const skill = Math.round(1500 + (rnd() - 0.5) * 1600);
            const party =
              mode === "ranked" && rnd() < 0.4
                ? Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ playerId: `q${++p}`, skill: Math.round(skill + (rnd() - 0.5) * 150) }))
                : undefined;
            batch.push(req(`q${++p}`, mode, { skill, ...(party ? { party } : {}) }));
          }
          const out = await enqueue(batch);
          expect(out.results.every((r) => r.outcome === "queued")).toBe(true);
          clock.advance(Math.floor(rnd() * 4000));
          if (round % 5 === 4) await store.regroup(REGION);
          if (round % 7 === 6) {
            await server(`s${round}`, 7000 + round);
            await store.assign(REGION);
          }
          expect(await invariants(), `round ${round}`).toEqual([]);
        }
        const st = await store.stats(REGION);
        expect(st.byMode?.ranked?.recentMatches).toBeGreaterThan(3);
        expect(st.byMode?.ranked?.skillSpread.p95).toBeLessThanOrEqual(1000);
      });
    });

    describe("parties and teams", () => {
      it("a party joins whole on one team; teams have teamSize players; the match carries teams, team and quality", async () => {
        const { store, enqueue, req, clock, invariants, server, raw } = fresh();
        const party = (id: string, n: number, skill: number) =>
          req(id, "ranked", { skill, party: Array.from({ length: n - 1 }, (_, i) => ({ playerId: `${id}m${i}`, skill: skill + 10 * (i + 1) })) });
        const out = await enqueue([party("p5", 5, 1500), party("p3", 3, 1520), party("p2", 2, 1480)]);
        expect(out.readySessions).toHaveLength(1);
        const sid = out.readySessions[0]!.sessionId;
        const teams = JSON.parse((await raw.hash("Session", sid)).teams!) as { players: string[] }[];
        expect(teams.map((t) => t.players.length)).toEqual([5, 5]);
        expect(teams[0]!.players).toEqual(["p5", "p5m0", "p5m1", "p5m2", "p5m3"]);
        expect([...teams[1]!.players].sort()).toEqual(["p2", "p2m0", "p3", "p3m0", "p3m1"]);
        const member = await store.getPlayer(REGION, "p3m1");
        expect(member).toMatchObject({ state: "waiting", sessionId: sid, skill: 1540, party: ["p3", "p3m0", "p3m1"] });
        await server("s1");
        clock.advance(2000);
        const asg = at((await store.assign(REGION)).assigned, 0);
        expect(asg.players).toHaveLength(10);
        expect(asg.teams).toEqual(teams);
        expect(asg.quality).toEqual({ skillSpread: 60, teamSkillGap: expect.any(Number), waitSeconds: 0 });
        const view = await store.getPlayer(REGION, "p2m0");
        expect(view).toMatchObject({ state: "matched", team: 1, teams, quality: asg.quality, party: ["p2", "p2m0"] });
        expect(JSON.parse((await raw.get("Match", sid))!)).toMatchObject({ teams, quality: asg.quality });
        expect(await invariants()).toEqual([]);
      });

      it("team balancing: largest parties first, then into the team with the lowest skill total", async () => {
        const { enqueue, req, raw } = fresh();
        const solo = (id: string, skill: number) => req(id, "ranked", { skill });
        const out = await enqueue([
          solo("s1", 1600),
          solo("s2", 1590),
          solo("s3", 1580),
          solo("s4", 1570),
          solo("s5", 1560),
          solo("s6", 1550),
          solo("s7", 1540),
          solo("s8", 1530),
          solo("s9", 1520),
          solo("s10", 1510),
        ]);
        const sid = out.readySessions[0]!.sessionId;
        const h = await raw.hash("Session", sid);
        const q = JSON.parse(h.quality!) as { teamSkillGap: number };
        // Greedy by skill into the lower total: 7780 vs 7770.
        expect(q.teamSkillGap).toBe(10);
        expect(JSON.parse(h.teams!).map((t: { players: string[] }) => t.players.length)).toEqual([5, 5]);
      });

      it("team packing: two parties of 3 in a 3v3 never share a team; a party that fits no team waits for another session", async () => {
        const { store, enqueue, req, invariants } = fresh();
        const p = (id: string, n: number) => req(id, "trio", n > 1 ? { party: Array.from({ length: n - 1 }, (_, i) => ({ playerId: `${id}m${i}` })) } : {});
        const out = await enqueue([p("a", 2), p("b", 2), p("c", 2), p("d", 1), p("e", 1), p("f", 1)]);
        // a,b,c: three parties of 2 never fill two teams of 3 alone; with the solos they do.
        expect(out.readySessions.length).toBeGreaterThanOrEqual(1);
        expect(await invariants()).toEqual([]);
        const more = await enqueue([p("g", 3), p("h", 3)]);
        expect(more.readySessions.length + (await store.regroup(REGION)).readySessions.length).toBeGreaterThanOrEqual(1);
        expect(await invariants()).toEqual([]);
      });

      it("a leave by any member takes the whole party out; a ready session reopens; redelivery and late leaves change nothing", async () => {
        const { store, enqueue, req, invariants, raw } = fresh();
        const lead = req("L", "trio", { party: [{ playerId: "M1" }, { playerId: "M2" }] });
        const out = await enqueue([lead, req("x", "trio"), req("y", "trio"), req("z", "trio")]);
        const sid = out.readySessions[0]!.sessionId;
        const [left] = await store.leave([{ playerId: "M1", ticketId: lead.ticketId, region: REGION, reason: "cancelled" }]);
        expect(left).toEqual({ outcome: "left", playerId: "M1", ticketId: lead.ticketId, reason: "cancelled", sessionId: sid, partyMembers: ["L", "M2"] });
        for (const pid of ["L", "M1", "M2"]) expect(await store.getPlayer(REGION, pid)).toMatchObject({ state: "left", leftReason: "cancelled" });
        expect(await raw.hash("Session", sid)).toMatchObject({ state: "open", size: "3" });
        expect(await store.leave([{ playerId: "L", ticketId: lead.ticketId, region: REGION, reason: "timedOut" }])).toMatchObject([
          { outcome: "alreadyLeft", reason: "cancelled" },
        ]);
        expect((await store.enqueue([lead])).results[0]).toMatchObject({ outcome: "duplicate", state: "left" });
        expect(await invariants()).toEqual([]);
        // The members may queue again, alone or in another party.
        expect((await enqueue([req("M1", "trio", { party: [{ playerId: "M2" }] })])).results[0]).toMatchObject({ outcome: "queued" });
        expect(await invariants()).toEqual([]);
      });

      it("stale expiry removes whole parties; a server dying before confirming requeues the group with its teams", async () => {
        const { store, enqueue, req, clock, invariants, server, raw } = fresh();
        await enqueue([req("A", "trio", { party: [{ playerId: "A1" }, { playerId: "A2" }] }), req("s", "trio")]);
        clock.advance(70_000);
        const out = await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000, max: 1 });
        expect(out.expiredPlayers.map((p) => p.playerId).sort()).toEqual(["A", "A1", "A2", "s"].slice(0, out.expiredPlayers.length).sort());
        expect(out.expiredPlayers.length).toBeGreaterThanOrEqual(3);
        await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000 });
        expect(await invariants()).toEqual([]);

        const full = await enqueue([
          req("B", "trio", { party: [{ playerId: "B1" }, { playerId: "B2" }] }),
          req("C", "trio", { party: [{ playerId: "C1" }, { playerId: "C2" }] }),
        ]);
        const sid = full.readySessions[0]!.sessionId;
        const teams = (await raw.hash("Session", sid)).teams;
        await store.registerServer({ serverId: "dies", region: REGION, address: "10.0.0.9:7000" });
        await server("other", 7001);
        const asg = await store.assign(REGION);
        expect(asg.assigned).toMatchObject([{ sessionId: sid, serverId: "dies" }]);
        clock.advance(20_000);
        await server("other", 7001);
        clock.advance(15_000);
        const exp = await store.expireServers(REGION);
        expect(exp.requeuedSessions).toEqual([sid]);
        expect((await raw.hash("Session", sid)).teams).toBe(teams);
        const again = await store.assign(REGION);
        expect(again.assigned[0]).toMatchObject({ sessionId: sid, serverId: "other", teams: JSON.parse(teams!) });
        expect(await invariants()).toEqual([]);
      });
    });

    it("one regroup examines at most 200 open sessions per mode and the next goes on where it stopped", async () => {
      const clock = new TestClock();
      const calls: string[] = [];
      const duoOnly = { duo: RULES_MODES.duo! };
      const store = new MatchmakingStore(redis, {
        prefix: uniquePrefix(),
        modes: duoOnly,
        serverLeaseSeconds: 30,
        ticketRetentionSeconds: 3600,
        clock: clock.now,
        onScript: (name) => calls.push(name),
      });
      // 250 players 1000 apart: 250 open sessions that never fit together.
      const out = await store.enqueue(
        Array.from({ length: 250 }, (_, i) => ({
          ticketId: `t${i}`,
          playerId: `p${i}`,
          mode: "duo",
          region: REGION,
          requestedAtMs: clock.ms,
          skill: 1000 * i,
        })),
      );
      expect(out.readySessions).toEqual([]);
      const regroupCalls = async () => {
        calls.length = 0;
        await store.regroup(REGION);
        return calls.filter((c) => c === "regroupSessions").length;
      };
      // 10 sessions per call: 20 calls for the first 200, then the last 50 (5 calls, and one that finds none left), then from the start again.
      expect([await regroupCalls(), await regroupCalls(), await regroupCalls()]).toEqual([20, 6, 20]);
    });

    it("stats per mode: waiting by skill band, recent matches' quality", async () => {
      const { store, enqueue, req, clock } = fresh();
      await enqueue([
        req("a", "duo", { skill: 1010 }),
        req("b", "duo", { skill: 1090 }),
        req("c", "duo", { skill: 1450 }),
        req("d", "ranked", { skill: 1234 }),
      ]);
      clock.advance(3000);
      await enqueue([req("e", "duo", { skill: 1480 })]);
      const st = await store.stats(REGION);
      expect(st.byMode?.duo).toEqual({
        waiting: 4,
        waitingBySkillBand: { "1000": 2, "1400": 2 },
        recentMatches: 2,
        skillSpread: { p50: 30, p95: 80 },
        teamSkillGap: { p50: 0, p95: 0 },
        waitSeconds: { p50: 0, p95: 3 },
      });
      expect(st.byMode?.ranked).toMatchObject({ waiting: 1, waitingBySkillBand: { "1200": 1 }, recentMatches: 0 });
      expect(st.byMode?.trio).toMatchObject({ waiting: 0, recentMatches: 0 });
      expect(st.byMode?.trio?.waitingBySkillBand).toBeUndefined();
      expect(st.byMode?.duel).toBeUndefined();
    });

    it("a batch gives exactly the results and the state its requests give one by one (rules modes)", async () => {
      const clock = new TestClock();
      const [pa, pb] = [uniquePrefix(), uniquePrefix()];
      const batched = makeStore(redis, clock, { prefix: pa, modes: RULES_MODES });
      const single = makeStore(redis, clock, { prefix: pb, modes: RULES_MODES });
      const rnd = prng(99);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const players = Array.from({ length: 60 }, (_, i) => `p${i}`);
      const sent: EnqueueRequest[] = [];
      let tk = 0;
      for (let round = 0; round < 8; round++) {
        const batch: EnqueueRequest[] = [];
        for (let i = 0; i < 30; i++) {
          if (sent.length && rnd() < 0.15) {
            batch.push(pick(sent));
            continue;
          }
          const mode = pick(["ranked", "ranked", "duo", "trio", "duel"]);
          const r: EnqueueRequest = {
            ticketId: `t${++tk}`,
            playerId: pick(players),
            mode,
            region: REGION,
            requestedAtMs: clock.ms - Math.floor(rnd() * 20_000),
          };
          if (mode === "ranked" || mode === "duo") r.skill = 1000 + Math.floor(rnd() * 600);
          if ((mode === "ranked" || mode === "trio") && rnd() < 0.4)
            r.party = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => ({
              playerId: pick(players),
              ...(mode === "ranked" ? { skill: 1000 + Math.floor(rnd() * 600) } : {}),
            }));
          batch.push(r);
        }
        const out = await batched.enqueue(batch);
        const one = { results: [] as unknown[], readySessions: [] as unknown[], backfillRegions: [] as string[] };
        for (const r of batch) {
          const x = await single.enqueue([r]);
          one.results.push(...x.results);
          one.readySessions.push(...x.readySessions);
          for (const region of x.backfillRegions) if (!one.backfillRegions.includes(region)) one.backfillRegions.push(region);
        }
        expect(one).toEqual(out);
        sent.push(...batch);
        const leaves = Array.from({ length: 5 }, () => pick(sent)).map((t) => ({
          playerId: t.party && rnd() < 0.5 ? t.party[0]!.playerId : t.playerId,
          ticketId: t.ticketId,
          region: REGION,
          reason: "cancelled" as const,
        }));
        expect(await single.leave(leaves)).toEqual(await batched.leave(leaves));
        clock.advance(4000);
        expect(await single.regroup(REGION)).toEqual(await batched.regroup(REGION));
      }
      // Key names without the prefix; expiry as "has one or not" (Redis sets it from its own clock, not the test's).
      const strip = (d: Record<string, string>, prefix: string) =>
        Object.fromEntries(
          Object.entries(d).map(([k, v]) => [
            k.slice(prefix.length),
            v.replace(/^(\S+) (-?\d+) /, (_, t: string, e: string) => `${t} ${e === "-1" ? "-1" : "ttl"} `),
          ]),
        );
      expect(strip(await dumpPrefix(redis, pb), pb)).toEqual(strip(await dumpPrefix(redis, pa), pa));
      const raw = new RawRegion(redis, pa);
      expect([...(await checkInvariants(raw, RULES_SIZES, players)), ...(await checkRulesInvariants(raw, RULES, players))]).toEqual([]);
    });

    it("invariants hold under 8 concurrent clients with skills, parties, duplicates, leaves, regroups and server churn", async () => {
      const prefix = uniquePrefix();
      const clock = new TestClock();
      const clients: MatchmakingStore[] = [];
      for (let i = 0; i < 8; i++) {
        const c = await connect(getTarget());
        opened.push(c);
        clients.push(makeStore(c, clock, { prefix, serverLeaseSeconds: 5, modes: RULES_MODES }));
      }
      const report = await runConcurrencyScenario({ clients, clock, seed: 20261111, iterations: 150, region: REGION, rules: true, players: 120 });
      const raw = new RawRegion(redis, prefix);
      expect(await checkInvariants(raw, RULES_SIZES, report.playerIds)).toEqual([]);
      expect(await checkRulesInvariants(raw, RULES, report.playerIds)).toEqual([]);
      if (process.env.STORE_DEBUG) console.log(JSON.stringify(report.counts));
      for (const outcome of [
        "queued",
        "queued-party",
        "duplicate",
        "rejected:ticket_live",
        "rejected:party_member_live",
        "rejected:party_duplicate_member",
        "left",
        "left-party",
        "assigned",
        "expired-allocated",
      ]) {
        expect(report.counts[outcome] ?? 0, outcome).toBeGreaterThan(0);
      }
    });
  });
}
