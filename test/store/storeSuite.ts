/**
 * The store test suite, written once and run against both a standalone redis-server and a 3-master
 * Redis Cluster (store.standalone.test.ts, store.cluster.test.ts). Real Redis, no mocks; time moves by
 * the injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnqueueRequest, LeaveRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import { routingKey } from "../../src/store/keys";
import { TIME_TO_MATCH_BOUNDS_MS } from "../../src/store/matchmakingStore";
import { checkInvariants, connect, makeStore, MODES, RawRegion, REGION, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { prng, runConcurrencyScenario } from "./concurrencyScenario";
import { at } from "../support/at";

export function defineStoreSuite(targetName: string, getTarget: () => StoreTarget): void {
  describe(`store on ${targetName}`, () => {
    let redis: RedisConnection;
    const opened: RedisConnection[] = [];

    beforeAll(async () => {
      redis = await connect(getTarget());
      opened.push(redis);
    });
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close()));
    });

    /** A store on a fresh prefix with its own clock, plus direct reads and request builders. */
    function fresh(o: { serverLeaseSeconds?: number; ticketRetentionSeconds?: number } = {}) {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      const store = makeStore(redis, clock, { prefix, ...o });
      const raw = new RawRegion(redis, prefix);
      let n = 0;
      const req = (playerId: string, mode = "duel", extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
        ticketId: `tk-${playerId}-${++n}`,
        playerId,
        mode,
        region: REGION,
        requestedAtMs: clock.ms,
        ...extra,
      });
      const leave = (r: { playerId: string; ticketId: string }, reason: LeaveRequest["reason"] = "timedOut"): LeaveRequest => ({
        playerId: r.playerId,
        ticketId: r.ticketId,
        region: REGION,
        reason,
      });
      const server = (serverId: string, port = 7777) => store.registerServer({ serverId, region: REGION, address: `10.0.0.1:${port}` });
      const invariants = (players: string[]) => checkInvariants(raw, MODES, players);
      return { clock, prefix, store, raw, req, leave, server, invariants };
    }

    describe("enqueue", () => {
      it("opens a session, fills it, and marks it ready", async () => {
        const { store, raw, req, clock } = fresh();
        const a = req("alice");
        const b = req("bob");
        const r1 = await store.enqueue([a]);
        expect(r1.results[0]).toEqual({ outcome: "queued", ticketId: a.ticketId, playerId: "alice", sessionId: `${REGION}.1`, sessionReady: false });
        expect(r1.readySessions).toEqual([]);
        expect(await raw.zset("SessionsPerMatchmaking", "duel")).toEqual(new Map([[`${REGION}.1`, 1]]));
        const r2 = await store.enqueue([b]);
        expect(r2.results[0]).toMatchObject({ outcome: "queued", sessionId: `${REGION}.1`, sessionReady: true });
        expect(r2.readySessions).toEqual([{ region: REGION, sessionId: `${REGION}.1` }]);
        expect(await raw.hash("Session", `${REGION}.1`)).toMatchObject({ mode: "duel", capacity: "2", size: "2", state: "ready", seq: "1" });
        expect(await raw.zmembers("SessionsPerMatchmaking", "duel")).toEqual([]);
        expect(await raw.zmembers("SessionsReady")).toEqual([`${REGION}.1`]);
        expect(await raw.sessionMembers(`${REGION}.1`)).toEqual(["alice", "bob"]);
        expect(await raw.hash("Player", "alice")).toEqual({
          ticketId: a.ticketId,
          mode: "duel",
          session: `${REGION}.1`,
          requestedAt: String(clock.ms),
        });
        // The record is the redelivery guard (no key per ticket) and stores no state (it reads waiting through
        // its open/ready session); members are fields of the session hash.
        expect(await raw.player("alice")).toMatchObject({ state: "waiting" });
        expect(await raw.pttl("Player", "alice")).toBe(-1);
        expect((await raw.hash("Session", `${REGION}.1`))["@alice"]).toBe(`${a.ticketId} ${clock.ms}`);
        expect((await raw.hash("Session", `${REGION}.1`))["@bob"]).toBe(`${b.ticketId} ${clock.ms}`);
        expect(await raw.waitStarts()).toEqual(
          new Map([
            ["alice", clock.ms],
            ["bob", clock.ms],
          ]),
        );
        expect(await raw.hash("WaitingPerMode")).toEqual({ duel: "2" });
      });

      it("a one-player mode is ready at once; modes and regions never mix", async () => {
        const { store, req, raw } = fresh();
        const out = await store.enqueue([req("s1", "solo"), req("d1", "duel"), req("q1", "squad"), req("other", "duel", { region: "eastus" })]);
        expect(out.results.map((r) => r.outcome)).toEqual(["queued", "queued", "queued", "queued"]);
        expect(out.readySessions).toEqual([{ region: REGION, sessionId: `${REGION}.1` }]);
        const sids = out.results.map((r) => (r.outcome === "queued" ? r.sessionId : ""));
        expect(sids).toEqual([`${REGION}.1`, `${REGION}.2`, `${REGION}.3`, "eastus.1"]);
        expect(await raw.sessionMembers(`${REGION}.2`)).toEqual(["d1"]);
      });

      it("joins the OLDEST open session of its mode (by sequence, not by time)", async () => {
        const { store, req, leave } = fresh();
        const [a, b, c, d] = [req("a"), req("b"), req("c"), req("d")];
        await store.enqueue([a, b, c, d]); // s1 = a,b (ready), s2 = c,d (ready): all in the same millisecond
        await store.leave([leave(d), leave(b)]); // s2 back to open first, then s1
        const out = await store.enqueue([req("e"), req("f")]);
        expect(out.results.map((r) => (r.outcome === "queued" ? r.sessionId : r.outcome))).toEqual([`${REGION}.1`, `${REGION}.2`]);
        expect(out.readySessions.map((s) => s.sessionId)).toEqual([`${REGION}.1`, `${REGION}.2`]);
      });

      it("keeps a session's capacity as it was at creation", async () => {
        const { store, req, prefix, clock } = fresh();
        await store.enqueue([req("a", "duel")]);
        const bigger = makeStore(redis, clock, { prefix, modes: { ...MODES, duel: 3 } });
        const out = await bigger.enqueue([{ ...req("b", "duel") }]);
        expect(out.results[0]).toMatchObject({ outcome: "queued", sessionId: `${REGION}.1`, sessionReady: true });
      });

      it("redelivery of a whole batch changes nothing", async () => {
        const { store, req, raw } = fresh();
        const batch = [req("a", "squad"), req("b", "squad"), req("c", "duel")];
        await store.enqueue(batch);
        const before = [
          await raw.hash("Session", `${REGION}.1`),
          await raw.hash("Session", `${REGION}.2`),
          await raw.hash("WaitingPerMode"),
          await raw.get("SessionSeq"),
        ];
        const again = await store.enqueue(batch);
        expect(again.results).toEqual([
          { outcome: "duplicate", ticketId: at(batch, 0).ticketId, playerId: "a", state: "waiting", sessionId: `${REGION}.1` },
          { outcome: "duplicate", ticketId: at(batch, 1).ticketId, playerId: "b", state: "waiting", sessionId: `${REGION}.1` },
          { outcome: "duplicate", ticketId: at(batch, 2).ticketId, playerId: "c", state: "waiting", sessionId: `${REGION}.2` },
        ]);
        const after = [
          await raw.hash("Session", `${REGION}.1`),
          await raw.hash("Session", `${REGION}.2`),
          await raw.hash("WaitingPerMode"),
          await raw.get("SessionSeq"),
        ];
        expect(after).toEqual(before);
      });

      it("a duplicate inside one batch is a duplicate", async () => {
        const { store, req, raw } = fresh();
        const a = req("a", "squad");
        const out = await store.enqueue([a, a]);
        expect(out.results.map((r) => r.outcome)).toEqual(["queued", "duplicate"]);
        expect(await raw.hash("Session", `${REGION}.1`)).toMatchObject({ size: "1" });
      });

      it("a ticket redelivered after leaving or after being matched is a no-op", async () => {
        const { store, req, leave, server, raw } = fresh();
        const a = req("a");
        await store.enqueue([a]);
        await store.leave([leave(a, "cancelled")]);
        expect((await store.enqueue([a])).results[0]).toMatchObject({ outcome: "duplicate", state: "left" });
        expect(await raw.get("SessionSeq")).toBe("1");
        expect(await raw.exists("Session", `${REGION}.1`)).toBe(false);

        const [b, c] = [req("b"), req("c")];
        await store.enqueue([b, c]);
        await server("srv1");
        expect((await store.assign(REGION)).assigned).toHaveLength(1);
        const again = await store.enqueue([b, c]);
        expect(again.results.map((r) => r.outcome === "duplicate" && r.state)).toEqual(["matched", "matched"]);
        expect((await store.getPlayer(REGION, "b"))?.state).toBe("matched");
      });

      it("an old ticket redelivered after a newer ticket of the same player is a no-op (the record remembers it, or it is older)", async () => {
        const { store, req, leave, raw, clock } = fresh();
        const old = req("a");
        await store.enqueue([old]);
        await store.leave([leave(old, "cancelled")]);
        const newer = req("a"); // the same millisecond: only the record's memory of `old` tells them apart
        expect(at((await store.enqueue([newer])).results, 0).outcome).toBe("queued");
        expect(await raw.hash("Player", "a")).toMatchObject({ ticketId: newer.ticketId, seen: old.ticketId });
        expect(at((await store.enqueue([old])).results, 0)).toMatchObject({ outcome: "duplicate", state: "unknown" });
        expect(at(await store.leave([leave(old)]), 0).outcome).toBe("superseded");
        // A ticket the record no longer remembers is still told apart by its request time.
        const older = req("a", "duel", { requestedAtMs: clock.ms - 1000 });
        await raw.cmd("Player", "a", ["HDEL", "seen"]);
        expect(at((await store.enqueue([older])).results, 0)).toMatchObject({ outcome: "duplicate", state: "unknown" });
        expect(at(await store.leave([{ ...leave(older), requestedAtMs: older.requestedAtMs }]), 0).outcome).toBe("superseded");
        expect(await raw.player("a")).toMatchObject({ ticketId: newer.ticketId, state: "waiting" });
        expect(await raw.sessionMembers(`${REGION}.2`)).toEqual(["a"]);
        expect(await raw.hash("WaitingPerMode")).toEqual({ duel: "1" });
      });

      it("a ticketId another player used is that player's own ticket; refuses a second live ticket and a stale request, each alone", async () => {
        const { store, req, clock } = fresh({ ticketRetentionSeconds: 600 });
        const a = req("a", "squad");
        await store.enqueue([a]);
        const out = await store.enqueue([
          { ...req("b", "squad"), ticketId: a.ticketId },
          req("a", "squad"),
          req("c", "squad", { requestedAtMs: clock.ms - 601_000 }),
          req("d", "squad"),
        ]);
        // Each player's record is its own guard: a ticket id another player used is not recognised (ids are
        // minted by the ticket endpoint, randomUUID; a redelivery always carries the same player).
        expect(out.results[0]).toMatchObject({ outcome: "queued", playerId: "b" });
        expect(out.results[1]).toMatchObject({ outcome: "rejected", playerId: "a", error: "ticket_live", liveTicketId: a.ticketId });
        const live = at(out.results, 1);
        expect(live.outcome === "rejected" && live.detail).toContain(a.ticketId);
        expect(out.results[2]).toMatchObject({ outcome: "rejected", playerId: "c", error: "ticket_stale" });
        expect(out.results[3]).toMatchObject({ outcome: "queued", playerId: "d", sessionId: `${REGION}.1` });
      });

      it("a new ticket after leaving starts a fresh record", async () => {
        const { store, req, leave, raw } = fresh();
        const a1 = req("a", "squad");
        await store.enqueue([a1]);
        await store.leave([leave(a1, "cancelled")]);
        const a2 = req("a", "squad");
        expect(at((await store.enqueue([a2])).results, 0).outcome).toBe("queued");
        const p = await raw.player("a");
        expect(p).toMatchObject({ ticketId: a2.ticketId, state: "waiting" });
        expect(p.leftReason).toBeUndefined();
        expect(await raw.pttl("Player", "a")).toBe(-1);
      });
    });

    describe("leave", () => {
      it("frees the slot: a ready session goes back to open under its original sequence", async () => {
        const { store, req, leave, raw } = fresh();
        await store.enqueue([req("x", "squad")]); // seq 1 so duel gets seq 2
        const [a, b] = [req("a"), req("b")];
        await store.enqueue([a, b]);
        const [res] = await store.leave([leave(a, "timedOut")]);
        expect(res).toEqual({ outcome: "left", playerId: "a", ticketId: a.ticketId, reason: "timedOut", sessionId: `${REGION}.2` });
        expect(await raw.hash("Session", `${REGION}.2`)).toMatchObject({ state: "open", size: "1" });
        expect(await raw.zset("SessionsPerMatchmaking", "duel")).toEqual(new Map([[`${REGION}.2`, 2]]));
        expect(await raw.zmembers("SessionsReady")).toEqual([]);
        expect(await raw.sessionMembers(`${REGION}.2`)).toEqual(["b"]);
        const p = await raw.hash("Player", "a");
        expect(p).toMatchObject({ state: "left", leftReason: "timedOut" });
        expect(p.session).toBeUndefined();
        expect(await raw.pttl("Player", "a")).toBeGreaterThan(0);
        expect([...(await raw.waitStarts()).keys()].sort()).toEqual(["b", "x"]);
        expect(await raw.hash("WaitingPerMode")).toEqual({ duel: "1", squad: "1" });
      });

      it("deletes an emptied session entirely", async () => {
        const { store, req, leave, raw } = fresh();
        const a = req("a");
        await store.enqueue([a]);
        await store.leave([leave(a)]);
        expect(await raw.exists("Session", `${REGION}.1`)).toBe(false);
        expect(await raw.sessionMembers(`${REGION}.1`)).toEqual([]);
        expect(await raw.zmembers("SessionsPerMatchmaking", "duel")).toEqual([]);
        expect(await raw.zmembers("SessionsCreationTime")).toEqual([]);
        expect(await raw.hash("WaitingPerMode")).toEqual({ duel: "0" });
      });

      it("a repeated leave is alreadyLeft with the first reason", async () => {
        const { store, req, leave } = fresh();
        const a = req("a");
        await store.enqueue([a]);
        await store.leave([leave(a, "cancelled")]);
        expect(await store.leave([leave(a, "timedOut")])).toEqual([{ outcome: "alreadyLeft", playerId: "a", ticketId: a.ticketId, reason: "cancelled" }]);
      });

      it("ghost prevention: a leave that overtakes its enqueue is recorded, and the late enqueue is a no-op", async () => {
        const { store, req, leave, raw } = fresh();
        const a = req("a");
        expect(await store.leave([leave(a, "cancelled")])).toEqual([{ outcome: "preempted", playerId: "a", ticketId: a.ticketId, reason: "cancelled" }]);
        const late = await store.enqueue([a]);
        expect(late.results[0]).toMatchObject({ outcome: "duplicate", state: "left" });
        expect(await raw.get("SessionSeq")).toBeNull();
        expect(await raw.waitStarts()).toEqual(new Map());
        expect((await store.getPlayer(REGION, "a"))?.leftReason).toBe("cancelled");
        expect(await store.leave([leave(a, "timedOut")])).toMatchObject([{ outcome: "alreadyLeft", reason: "cancelled" }]);
      });

      it("a preempting leave does not touch the player's other live ticket", async () => {
        const { store, req, leave, raw } = fresh();
        const live = req("a", "squad");
        await store.enqueue([live]);
        const never = req("a", "squad");
        expect(at(await store.leave([leave(never)]), 0).outcome).toBe("preempted");
        expect(await raw.player("a")).toMatchObject({ ticketId: live.ticketId, state: "waiting" });
        expect((await store.enqueue([never])).results[0]).toMatchObject({ outcome: "duplicate", state: "unknown" });
      });

      it("a leave of an older ticket is superseded", async () => {
        const { store, req, leave } = fresh();
        const a1 = req("a", "squad");
        await store.enqueue([a1]);
        await store.leave([leave(a1)]);
        const a2 = req("a", "squad");
        await store.enqueue([a2]);
        expect(await store.leave([leave(a1, "cancelled")])).toEqual([{ outcome: "superseded", playerId: "a", ticketId: a1.ticketId }]);
        expect((await store.getPlayer(REGION, "a"))?.state).toBe("waiting");
      });

      it("race, leave first: the player is removed and never sent to a server", async () => {
        const { store, req, leave, server, invariants } = fresh();
        const [a, b] = [req("a"), req("b")];
        await store.enqueue([a, b]);
        await server("srv1");
        expect(at(await store.leave([leave(a)]), 0).outcome).toBe("left");
        const out = await store.assign(REGION);
        expect(out.assigned).toEqual([]);
        expect(out.serversAvailable).toBe(1);
        expect(await invariants(["a", "b"])).toEqual([]);
      });

      it("race, assign first: the leave is told the assignment and changes nothing", async () => {
        const { store, req, leave, server, clock } = fresh();
        const [a, b] = [req("a"), req("b")];
        await store.enqueue([a, b]);
        await server("srv1");
        const { assigned } = await store.assign(REGION);
        clock.advance(1000);
        const [res] = await store.leave([leave(a)]);
        expect(res).toEqual({ outcome: "assigned", playerId: "a", ticketId: a.ticketId, assignment: assigned[0] });
        expect(assigned[0]).toMatchObject({
          serverId: "srv1",
          address: "10.0.0.1:7777",
          mode: "duel",
          region: REGION,
          players: [
            { playerId: "a", ticketId: a.ticketId },
            { playerId: "b", ticketId: b.ticketId },
          ],
        });
        expect((await store.getPlayer(REGION, "a"))?.state).toBe("matched");
      });

      it("race, truly concurrent on two connections: exactly one side wins, consistently", async () => {
        const second = await connect(getTarget());
        opened.push(second);
        for (let round = 0; round < 5; round++) {
          const { store, req, leave, server, clock, prefix, invariants } = fresh();
          const other = makeStore(second, clock, { prefix });
          const [a, b] = [req("a"), req("b")];
          await store.enqueue([a, b]);
          await server("srv1");
          const [leaves, assigned] = await Promise.all([other.leave([leave(a)]), store.assign(REGION)]);
          const left = at(leaves, 0);
          if (left.outcome === "left") expect(assigned.assigned).toEqual([]);
          else {
            expect(left.outcome).toBe("assigned");
            expect(assigned.assigned).toHaveLength(1);
          }
          expect(await invariants(["a", "b"])).toEqual([]);
        }
      });
    });

    describe("assign and outbox", () => {
      it("gives ready sessions oldest first to servers idle longest first, one server each", async () => {
        const { store, req, server, clock, raw } = fresh();
        await server("zz-idle-longest", 2);
        await store.enqueue([
          req("a"),
          req("b"),
          req("c"),
          req("d"),
          req("e", "squad"),
          req("f", "squad"),
          req("g", "squad"),
          req("h", "squad"),
          req("i"),
          req("j"),
        ]);
        clock.advance(10);
        await server("aa-idle-less", 3);
        const out = await store.assign(REGION);
        expect(out.assigned.map((x) => [x.sessionId, x.serverId])).toEqual([
          [`${REGION}.1`, "zz-idle-longest"],
          [`${REGION}.2`, "aa-idle-less"],
        ]);
        expect(out.unassignedSessions).toBe(2);
        expect(out.unassignedByMode).toEqual({ squad: 1, duel: 1 });
        expect(out.serversAvailable).toBe(0);
        expect(await raw.zmembers("SessionsReady")).toEqual([`${REGION}.3`, `${REGION}.4`]);
        expect(await raw.zset("SessionsAnnouncing")).toEqual(
          new Map([
            [`${REGION}.1`, clock.ms],
            [`${REGION}.2`, clock.ms],
          ]),
        );
        const servers = await store.listServers(REGION);
        expect(servers.map((s) => [s.serverId, s.state, s.sessionId])).toEqual([
          ["aa-idle-less", "allocated", `${REGION}.2`],
          ["zz-idle-longest", "allocated", `${REGION}.1`],
        ]);
        // nothing more to give: a second assign changes nothing
        const again = await store.assign(REGION);
        expect(again.assigned).toEqual([]);
        expect(again.unassignedSessions).toBe(2);
      });

      it("marks players matched, records time-to-match, respects maxSessions", async () => {
        const { store, req, server, clock, raw } = fresh();
        const a = req("a");
        clock.advance(1500);
        await store.enqueue([a, req("b"), req("c"), req("d")]);
        await server("s1");
        await server("s2", 2);
        clock.advance(500);
        const out = await store.assign(REGION, { maxSessions: 1 });
        expect(out.assigned).toHaveLength(1);
        expect(out.unassignedSessions).toBe(1);
        expect(out.serversAvailable).toBe(1);
        expect(await raw.player("a")).toMatchObject({ state: "matched", server: "s1", address: "10.0.0.1:7777", assignedAt: String(clock.ms) });
        // Nothing is written per player at assign: the record reads matched through its assigned session,
        // and keeps no TTL while the game runs (it gets the retention when the game ends).
        expect(await raw.hash("Player", "a")).toMatchObject({ session: out.assigned[0]?.sessionId });
        expect((await raw.hash("Player", "a")).state).toBeUndefined();
        expect(await raw.pttl("Player", "a")).toBe(-1);
        expect([...(await raw.waitStarts()).keys()].sort()).toEqual(["c", "d"]);
        expect((await raw.cmd<string[]>("MatchTimes", undefined, ["LRANGE", "0", "-1"])).sort()).toEqual(["2000", "500"]);
        expect(await raw.hash("WaitingPerMode")).toEqual({ duel: "2" });
      });

      it("unassignedByMode follows sessions leaving and re-entering the ready queue (leave, requeue, stale expiry)", async () => {
        const { store, req, server, clock, raw, leave, invariants } = fresh({ serverLeaseSeconds: 10 });
        const a = req("a");
        // 3 ready duels, 1 ready squad, in one batch and across batches
        await store.enqueue([a, req("b"), req("c"), req("d"), req("e", "squad"), req("f", "squad"), req("g", "squad")]);
        await store.enqueue([req("h", "squad"), req("i"), req("j")]);
        expect((await store.assign(REGION)).unassignedByMode).toEqual({ duel: 3, squad: 1 });
        // a leave reopens a ready session: no longer counted
        await store.leave([leave(a)]);
        expect((await store.assign(REGION)).unassignedByMode).toEqual({ duel: 2, squad: 1 });
        // assigned sessions leave the count; a requeue after server expiry brings the session back
        await server("s1");
        const out = await store.assign(REGION, { maxSessions: 1 });
        expect(out.assigned).toHaveLength(1);
        expect(out.unassignedByMode).toEqual({ duel: 1, squad: 1 });
        clock.advance(11_000);
        expect((await store.expireServers(REGION)).requeuedSessions).toEqual([out.assigned[0]!.sessionId]);
        expect((await store.assign(REGION)).unassignedByMode).toEqual({ duel: 2, squad: 1 });
        // stale expiry deletes ready sessions: nothing left to count (the requeued group's deadlines restarted at the requeue)
        clock.advance(10);
        const swept = await store.expireStale(REGION, { playerMaxAgeMs: 1, sessionMaxAgeMs: 1 });
        expect(swept.expiredPlayers.length).toBeGreaterThan(0);
        const last = await store.assign(REGION);
        expect(last.unassignedSessions).toBe(0);
        expect(last.unassignedByMode).toEqual({});
        expect(Object.values(await raw.hash("ReadyPerMode")).every((n) => n === "0")).toBe(true);
        expect(await invariants(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])).toEqual([]);
      });

      it("allocates a server whose stored record has another JSON layout exactly like a store-written one", async () => {
        const { store, req, server, clock, raw } = fresh();
        await store.enqueue([req("a"), req("b"), req("c"), req("d")]);
        await server("s1");
        // The same record as the store writes, re-spaced and with keys in another order (e.g. edited by an operator tool).
        const rec = JSON.parse((await raw.hash("Servers")).s1!) as Record<string, unknown>;
        const respaced = JSON.stringify(
          {
            gamesServed: rec.gamesServed,
            state: rec.state,
            address: rec.address,
            registeredAt: rec.registeredAt,
            lastHeartbeat: rec.lastHeartbeat,
            leaseExpiresAt: rec.leaseExpiresAt,
          },
          null,
          1,
        );
        await raw.cmd("Servers", undefined, ["HSET", "s1", respaced]);
        await server("s2", 2);
        clock.advance(5);
        const out = await store.assign(REGION);
        expect(out.assigned.map((x) => [x.sessionId, x.serverId, x.address])).toEqual([
          [`${REGION}.1`, "s1", "10.0.0.1:7777"],
          [`${REGION}.2`, "s2", "10.0.0.1:2"],
        ]);
        const servers = await raw.hash("Servers");
        for (const [id, sid] of [
          ["s1", `${REGION}.1`],
          ["s2", `${REGION}.2`],
        ] as const) {
          expect(JSON.parse(servers[id]!)).toMatchObject({ state: "allocated", sessionId: sid, gamesServed: 0, leaseExpiresAt: rec.leaseExpiresAt });
        }
        // The stored assignment (read back through cjson in readPlayer) is what assign returned.
        const view = await store.getPlayer(REGION, "c");
        expect(view).toMatchObject({ state: "matched", sessionId: `${REGION}.2`, serverId: "s2", address: "10.0.0.1:2", players: out.assigned[1]!.players });
        expect(out.assigned[1]!.players).toEqual([
          { playerId: "c", ticketId: expect.any(String) },
          { playerId: "d", ticketId: expect.any(String) },
        ]);
        expect(out.assigned[1]!.assignedAtMs).toBe(clock.ms);
      });

      it("skips an available server whose lease ran out (expireServers then retires it)", async () => {
        const { store, req, server, clock } = fresh({ serverLeaseSeconds: 10 });
        await server("dead");
        clock.advance(5_000);
        await server("alive", 2);
        clock.advance(6_000);
        await store.enqueue([req("a"), req("b")]);
        const out = await store.assign(REGION);
        expect(out.assigned.map((x) => x.serverId)).toEqual(["alive"]);
        expect((await store.expireServers(REGION)).expired.map((e) => e.serverId)).toEqual(["dead"]);
        expect((await store.listServers(REGION)).map((s) => s.serverId)).toEqual(["alive"]);
      });

      it("claims unconfirmed announcements after a delay, re-stamps them, and forgets confirmed ones", async () => {
        const { store, req, server, clock, raw } = fresh();
        await store.enqueue([req("a"), req("b")]);
        await server("s1");
        const { assigned } = await store.assign(REGION);
        expect(await store.claimUnannounced(REGION, { olderThanMs: 5000 })).toEqual([]);
        clock.advance(6000);
        expect(await store.claimUnannounced(REGION, { olderThanMs: 5000 })).toEqual(assigned);
        expect(await raw.zset("SessionsAnnouncing")).toEqual(new Map([[at(assigned, 0).sessionId, clock.ms]]));
        expect(await store.claimUnannounced(REGION, { olderThanMs: 5000 })).toEqual([]);
        await store.confirmAnnounced(REGION, [at(assigned, 0).sessionId]);
        clock.advance(60_000);
        expect(await store.claimUnannounced(REGION, { olderThanMs: 5000 })).toEqual([]);
        expect((await store.stats(REGION)).sessionsAnnouncing).toBe(0);
      });
    });

    describe("servers", () => {
      it("registers, heartbeats (renewing the lease, keeping the state), and refuses an address change of a live server", async () => {
        const { store, req, clock, raw } = fresh({ serverLeaseSeconds: 30 });
        const t0 = clock.ms;
        const reg = await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7777" });
        expect(reg).toEqual({
          outcome: "registered",
          server: {
            serverId: "s1",
            region: REGION,
            address: "10.0.0.1:7777",
            state: "available",
            registeredAtMs: t0,
            lastHeartbeatMs: t0,
            leaseExpiresAtMs: t0 + 30_000,
            gamesServed: 0,
          },
        });
        clock.advance(10_000);
        const hb = await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7777" });
        expect(hb).toMatchObject({
          outcome: "heartbeat",
          server: { address: "10.0.0.1:7777", state: "available", registeredAtMs: t0, lastHeartbeatMs: t0 + 10_000, leaseExpiresAtMs: t0 + 40_000 },
        });
        expect(await raw.zset("ServerLeases")).toEqual(new Map([["s1", t0 + 40_000]]));
        // A live server keeps its address (players are told it), allocated or not.
        expect(await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.2:7777" })).toMatchObject({
          outcome: "rejected",
          error: "address_conflict",
        });
        await store.enqueue([req("a"), req("b")]);
        await store.assign(REGION);
        const hb2 = await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.1:7777" });
        expect(hb2).toMatchObject({ outcome: "heartbeat", server: { state: "allocated", sessionId: `${REGION}.1` }, confirmedSessionId: `${REGION}.1` });
        const conflict = await store.registerServer({ serverId: "s1", region: REGION, address: "10.0.0.3:7777" });
        expect(conflict).toMatchObject({ outcome: "rejected", error: "address_conflict" });
        expect((await store.getServer(REGION, "s1"))?.server.address).toBe("10.0.0.1:7777");
      });

      it("release ends the session and frees the server; a repeat is alreadyAvailable; a stale release is sessionMismatch", async () => {
        const { store, req, server, raw, invariants } = fresh();
        await server("s1");
        await store.enqueue([req("a"), req("b")]);
        const first = at((await store.assign(REGION)).assigned, 0);
        // While the game runs the records and the match have no TTL (however long the game); its end starts the retention.
        expect([await raw.pttl("Player", "a"), await raw.pttl("Match", first.sessionId)]).toEqual([-1, -1]);
        const rel = await store.releaseServer({ serverId: "s1", region: REGION, sessionId: first.sessionId });
        expect(rel).toMatchObject({ outcome: "released", endedSessionId: first.sessionId, server: { state: "available", gamesServed: 1 } });
        expect(rel.outcome === "released" && rel.server.sessionId).toBeFalsy();
        expect(await raw.exists("Session", first.sessionId)).toBe(false);
        for (const ttl of [await raw.pttl("Player", "a"), await raw.pttl("Player", "b"), await raw.pttl("Match", first.sessionId)]) {
          expect(ttl).toBeGreaterThan(3_500_000);
          expect(ttl).toBeLessThanOrEqual(3_600_000);
        }
        expect(await raw.zmembers("SessionsAnnouncing")).toEqual([]);
        expect(await raw.zmembers("ServersAvailable")).toEqual(["s1"]);
        // players keep their match in their record, with all of the match's players (issue 9: the list shrank to the player alone)
        const afterRelease = await store.getPlayer(REGION, "a");
        expect(afterRelease).toMatchObject({ state: "matched", serverId: "s1", sessionId: first.sessionId, address: "10.0.0.1:7777" });
        expect(afterRelease?.players).toEqual(first.players);
        expect(first.players.map((p) => p.playerId)).toEqual(["a", "b"]);
        expect(await store.releaseServer({ serverId: "s1", region: REGION, sessionId: first.sessionId })).toMatchObject({ outcome: "alreadyAvailable" });
        // the server's next game; a duplicated release of the first game must not free it
        await store.enqueue([req("c"), req("d")]);
        const second = at((await store.assign(REGION)).assigned, 0);
        expect(second.serverId).toBe("s1");
        const stale = await store.releaseServer({ serverId: "s1", region: REGION, sessionId: first.sessionId });
        expect(stale).toMatchObject({ outcome: "sessionMismatch", server: { state: "allocated", sessionId: second.sessionId } });
        expect(await raw.hash("Session", second.sessionId)).toMatchObject({ state: "assigned", server: "s1" });
        expect(await store.releaseServer({ serverId: "nope", region: REGION })).toEqual({ outcome: "notFound" });
        const plain = await store.releaseServer({ serverId: "s1", region: REGION });
        expect(plain).toMatchObject({ outcome: "released", endedSessionId: second.sessionId, server: { gamesServed: 2 } });
        expect(await invariants(["a", "b", "c", "d"])).toEqual([]);
      });

      it("deregister removes a server and ends its session", async () => {
        const { store, req, server, raw } = fresh();
        await server("idle");
        expect(await store.deregisterServer({ serverId: "idle", region: REGION })).toEqual({ outcome: "removed", region: REGION });
        expect(await store.deregisterServer({ serverId: "idle", region: REGION })).toEqual({ outcome: "notFound" });
        await server("busy");
        await store.enqueue([req("a"), req("b")]);
        const { assigned } = await store.assign(REGION);
        expect(await store.deregisterServer({ serverId: "busy", region: REGION })).toEqual({
          outcome: "removed",
          region: REGION,
          endedSessionId: at(assigned, 0).sessionId,
        });
        expect(await raw.exists("Session", at(assigned, 0).sessionId)).toBe(false);
        expect(await raw.hash("Servers")).toEqual({});
        expect(await raw.zmembers("ServerLeases")).toEqual([]);
      });

      it("an expired allocated server's session goes back to the FRONT of the ready queue with the same players", async () => {
        const { store, req, server, clock, raw, invariants } = fresh({ serverLeaseSeconds: 10 });
        const players = ["a", "b", "q1", "q2", "q3", "q4"];
        await store.enqueue([req("q1", "squad")]); // session .1 (squad), open
        await server("doomed");
        const [a, b] = [req("a"), req("b")];
        await store.enqueue([a, b]); // session .2 (duel), ready at once
        const first = at((await store.assign(REGION)).assigned, 0);
        expect(first.sessionId).toBe(`${REGION}.2`);
        clock.advance(2_000);
        await store.enqueue([req("q2", "squad"), req("q3", "squad"), req("q4", "squad")]); // .1 ready now: older than .2 by sequence
        clock.advance(9_000); // doomed's lease (10 s) ran out; no heartbeat
        await server("fresh", 2); // another address: "doomed"'s lapsed address would be taken over (and doomed retired) at once
        const exp = await store.expireServers(REGION);
        expect(exp).toEqual({
          region: REGION,
          expired: [{ serverId: "doomed", wasAllocated: true, sessionId: first.sessionId, reason: "lease", session: "requeued" }],
          requeuedSessions: [first.sessionId],
          lostSessions: [],
        });
        expect(await raw.hash("Session", first.sessionId)).toMatchObject({ state: "ready", size: "2" });
        expect((await raw.hash("Session", first.sessionId)).server).toBeUndefined();
        // FRONT of the queue: ahead of the older ready session .1
        expect(await raw.zmembers("SessionsReady")).toEqual([first.sessionId, `${REGION}.1`]);
        expect(await raw.zset("SessionsCreationTime")).toEqual(
          new Map([
            [`${REGION}.1`, clock.ms - 11_000],
            [first.sessionId, clock.ms],
          ]),
        );
        expect(await raw.zmembers("SessionsAnnouncing")).toEqual([]);
        expect(await store.getPlayer(REGION, "a")).toMatchObject({ state: "waiting", sessionId: first.sessionId });
        expect(await store.getPlayer(REGION, "a").then((p) => p?.serverId)).toBeUndefined();
        // Fresh deadlines: the wait restarts at the requeue (the original request time would expire the group at once).
        expect(a.requestedAtMs).toBeLessThan(clock.ms);
        expect([...(await raw.waitStarts()).entries()].filter(([p]) => p === "a")).toEqual([["a", clock.ms]]);
        expect(await invariants(players)).toEqual([]);
        const next = await store.assign(REGION);
        expect(next.assigned).toHaveLength(1);
        expect(next.assigned[0]).toMatchObject({ sessionId: first.sessionId, serverId: "fresh", players: first.players });
        expect(next.unassignedByMode).toEqual({ squad: 1 });
        expect((await store.leave([leave(a)]))[0]).toMatchObject({ outcome: "assigned", assignment: { serverId: "fresh" } });
        expect(await invariants(players)).toEqual([]);

        function leave(r: { playerId: string; ticketId: string }): LeaveRequest {
          return { playerId: r.playerId, ticketId: r.ticketId, region: REGION, reason: "timedOut" };
        }
      });

      it("a requeued session drops players who moved on; short of players it is open again", async () => {
        const { store, req, server, clock, invariants, raw } = fresh({ serverLeaseSeconds: 10 });
        await server("doomed");
        await store.enqueue([req("a"), req("b")]);
        const first = at((await store.assign(REGION)).assigned, 0);
        await store.enqueue([req("a", "squad")]); // a moves on with a new ticket
        expect(await raw.sessionMembers(first.sessionId)).toEqual(["b"]);
        clock.advance(11_000);
        const exp = await store.expireServers(REGION);
        expect(exp.requeuedSessions).toEqual([first.sessionId]);
        expect(await raw.hash("Session", first.sessionId)).toMatchObject({ state: "open", size: "1" });
        expect(await raw.zset("SessionsPerMatchmaking", "duel")).toEqual(new Map([[first.sessionId, 1]]));
        expect(await invariants(["a", "b"])).toEqual([]);
      });

      it("expires silent available servers; a heartbeat keeps a server", async () => {
        const { store, server, clock } = fresh({ serverLeaseSeconds: 10 });
        await server("quiet");
        await server("chatty", 2);
        clock.advance(8_000);
        await server("chatty", 2);
        clock.advance(3_000);
        expect(await store.expireServers(REGION)).toEqual({
          region: REGION,
          expired: [{ serverId: "quiet", wasAllocated: false, reason: "lease" }],
          requeuedSessions: [],
          lostSessions: [],
        });
        expect((await store.listServers(REGION)).map((s) => s.serverId)).toEqual(["chatty"]);
        expect((await server("quiet")).outcome).toBe("registered");
      });
    });

    describe("stale expiry", () => {
      it("expires players waiting too long and sessions too old; fresh ones stay", async () => {
        const { store, req, clock, raw, invariants } = fresh();
        const old = req("old", "squad");
        await store.enqueue([old]);
        clock.advance(50_000);
        await store.enqueue([req("young", "squad"), req("d1"), req("d2")]);
        clock.advance(20_000);
        const out = await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 600_000 });
        expect(out.expiredPlayers).toEqual([{ playerId: "old", ticketId: old.ticketId }]);
        expect(out.expiredSessions).toEqual([]);
        expect(await store.getPlayer(REGION, "old")).toMatchObject({ state: "left", leftReason: "expired" });
        expect(await raw.hash("Session", `${REGION}.1`)).toMatchObject({ size: "1" });
        // now the squad session (created 70 s ago) is too old: its remaining player leaves, it is deleted
        const out2 = await store.expireStale(REGION, { playerMaxAgeMs: 600_000, sessionMaxAgeMs: 60_000 });
        expect(out2.expiredSessions).toEqual([`${REGION}.1`]);
        expect(out2.expiredPlayers.map((p) => p.playerId)).toEqual(["young"]);
        expect(await raw.exists("Session", `${REGION}.1`)).toBe(false);
        expect((await store.getPlayer(REGION, "d1"))?.state).toBe("waiting");
        expect(await invariants(["old", "young", "d1", "d2"])).toEqual([]);
      });
      it("reports a session emptied by expiring its last player, and takes at most `max` per store call", async () => {
        const { store, req, clock, raw } = fresh();
        await store.enqueue([req("lonely", "squad"), req("d1"), req("d2"), req("d3")]);
        clock.advance(120_000);
        const out = await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000, max: 2 });
        expect(out.expiredPlayers).toHaveLength(2);
        const rest = await store.expireStale(REGION, { playerMaxAgeMs: 60_000, sessionMaxAgeMs: 3_600_000, max: 2 });
        expect(rest.expiredPlayers).toHaveLength(2);
        expect([...out.expiredSessions, ...rest.expiredSessions].sort()).toEqual([`${REGION}.1`, `${REGION}.2`, `${REGION}.3`]);
        expect(await raw.zmembers("SessionsCreationTime")).toEqual([]);
        expect(await raw.get("SessionSeq")).toBe("3");
      });
    });

    describe("reads", () => {
      it("getPlayer, getServer, stats", async () => {
        const { store, req, server, clock, leave } = fresh();
        expect(await store.getPlayer(REGION, "nobody")).toBeNull();
        expect(await store.getServer(REGION, "nothing")).toBeNull();
        const a = req("a");
        const t0 = clock.ms;
        await store.enqueue([a, req("b"), req("q", "squad")]);
        expect(await store.getPlayer(REGION, "q")).toEqual({
          playerId: "q",
          ticketId: expect.any(String),
          mode: "squad",
          region: REGION,
          state: "waiting",
          requestedAtMs: t0,
          sessionId: `${REGION}.2`,
        });
        await server("s1");
        await server("s2", 2);
        clock.advance(4000);
        const asg = at((await store.assign(REGION)).assigned, 0);
        expect(await store.getPlayer(REGION, "a")).toEqual({
          playerId: "a",
          ticketId: a.ticketId,
          mode: "duel",
          region: REGION,
          state: "matched",
          requestedAtMs: t0,
          sessionId: asg.sessionId,
          serverId: "s1",
          address: "10.0.0.1:7777",
          players: asg.players,
        });
        const alloc = await store.getServer(REGION, "s1");
        expect(alloc?.session).toEqual({ sessionId: asg.sessionId, mode: "duel", players: asg.players, assignedAtMs: clock.ms });
        expect((await store.getServer(REGION, "s2"))?.session).toBeUndefined();
        await store.enqueue([req("c", "duel", { requestedAtMs: clock.ms - 1000 })]);
        clock.advance(1000);
        const st = await store.stats(REGION);
        expect(st).toEqual({
          region: REGION,
          waitingPlayers: 2,
          waitingByMode: { duel: 1, squad: 1, solo: 0 },
          sessionsOpen: 2,
          sessionsReady: 0,
          sessionsAnnouncing: 1,
          serversAvailable: 1,
          serversAllocated: 1,
          oldestWaitMs: 5000,
          timeToMatchMs: {
            count: 2,
            p50: 4000,
            p95: 4000,
            p99: 4000,
            max: 4000,
            // Both samples (4000 ms) in the bucket up to 5000 ms.
            histogram: { boundsMs: TIME_TO_MATCH_BOUNDS_MS, counts: TIME_TO_MATCH_BOUNDS_MS.map((b) => (b === 5000 ? 2 : 0)).concat([0]) },
          },
          // The counter assignSessions.lua keeps: a's session of two was assigned.
          matchedPlayers: 2,
          matchedByMode: { duel: 2, squad: 0, solo: 0 },
        });
        await store.leave([leave({ playerId: "q", ticketId: (await store.getPlayer(REGION, "q"))!.ticketId }, "cancelled")]);
        expect(await store.getPlayer(REGION, "q")).toMatchObject({ state: "left", leftReason: "cancelled" });
      });

      it("dead letters: capped stream per source, newest first", async () => {
        const { store } = fresh();
        await store.deadLetter("player-requests", [
          { body: '{"x":1}', error: "invalid_playerId", detail: "bad" },
          { body: "not json", error: "invalid_json", detail: "Unexpected token" },
        ]);
        const list = await store.listDeadLetters("player-requests");
        expect(list.map((d) => [d.body, d.error, d.detail])).toEqual([
          ["not json", "invalid_json", "Unexpected token"],
          ['{"x":1}', "invalid_playerId", "bad"],
        ]);
        expect(at(list, 0).at).toBe(new Date(Date.UTC(2026, 0, 1, 12)).toISOString());
        expect(await store.listDeadLetters("match-made")).toEqual([]);
        expect(await store.listDeadLetters("player-requests", 1)).toHaveLength(1);
      });
    });

    it("a batch gives exactly the results and the state its requests give one by one", async () => {
      // enqueuePlayers keeps the sessions being filled, counters and indexes in Lua tables and writes them once
      // per batch; this checks that against the same requests sent one per call, over rounds that also leave,
      // assign and re-enqueue matched players (reopened ready sessions, detached members, full and fresh sessions).
      const clock = new TestClock();
      const [pa, pb] = [uniquePrefix(), uniquePrefix()];
      const batched = makeStore(redis, clock, { prefix: pa });
      const single = makeStore(redis, clock, { prefix: pb });
      const rnd = prng(424242);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const playerIds = Array.from({ length: 30 }, (_, i) => `p${i}`);
      const modes = ["duel", "duel", "squad", "solo"];
      const sent: EnqueueRequest[] = [];
      let tk = 0;
      const seen = new Set<string>();
      const both = async <T>(f: (s: MatchmakingStore) => Promise<T>): Promise<T> => {
        const [x, y] = [await f(batched), await f(single)];
        expect(y).toEqual(x);
        return x;
      };
      for (let round = 0; round < 10; round++) {
        const batch: EnqueueRequest[] = [];
        for (let i = 0; i < 25; i++) {
          const r = rnd();
          const fresh = (): EnqueueRequest => ({
            ticketId: `tk${++tk}`,
            playerId: pick(playerIds),
            mode: pick(modes),
            region: REGION,
            requestedAtMs: clock.ms - Math.floor(rnd() * 500),
          });
          if (r < 0.6 || !sent.length) batch.push(fresh());
          else if (r < 0.75)
            batch.push(pick(sent)); // redelivery
          else if (r < 0.82)
            batch.push({ ...pick(sent), playerId: pick(playerIds) }); // a ticket reused by someone else
          else if (r < 0.87)
            batch.push({ ...fresh(), requestedAtMs: clock.ms - 3_700_000 }); // older than the retention
          else if (batch.length)
            batch.push(pick(batch)); // repeated inside the batch
          else batch.push(fresh());
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
        for (const x of out.results) seen.add(x.outcome === "rejected" ? x.error : x.outcome);
        sent.push(...batch);
        // The same leaves, servers and assigns on both.
        const leaves: LeaveRequest[] = Array.from({ length: 4 }, () => pick(sent)).map((t) => ({
          playerId: t.playerId,
          ticketId: t.ticketId,
          region: REGION,
          reason: "cancelled" as const,
        }));
        await both((st) => st.leave(leaves));
        await both((st) => st.registerServer({ serverId: `s${round}`, region: REGION, address: `10.0.0.${round}:7777` }));
        if (round % 3 === 2) await both((st) => st.releaseServer({ serverId: `s${round - 1}`, region: REGION }));
        await both((st) => st.assign(REGION, { maxSessions: 2 }));
        clock.advance(100);
      }
      // Every key of both regions is the same.
      const snapshot = async (prefix: string) => {
        const raw = new RawRegion(redis, prefix);
        const seq = Number(await raw.get("SessionSeq"));
        const sessions: unknown[] = [];
        for (let i = 1; i <= seq; i++) sessions.push([await raw.hash("Session", `${REGION}.${i}`), await raw.sessionMembers(`${REGION}.${i}`)]);
        const players: unknown[] = [];
        for (const p of playerIds) players.push([await raw.hash("Player", p), (await raw.pttl("Player", p)) > 0]);
        const servers = Object.entries(await raw.hash("Servers")).map(([id, j]) => [id, JSON.parse(j)]);
        return {
          seq,
          sessions,
          players,
          servers,
          open: await Promise.all(Object.keys(MODES).map((m) => raw.zset("SessionsPerMatchmaking", m))),
          zsets: await Promise.all(
            (["SessionsReady", "SessionsCreationTime", "SessionsAnnouncing", "SessionsWaitingSince", "ServersAvailable"] as const).map((k) => raw.zset(k)),
          ),
          counters: [await raw.hash("WaitingPerMode"), await raw.hash("ReadyPerMode")],
          matchTimes: await raw.cmd<string[]>("MatchTimes", undefined, ["LRANGE", "0", "-1"]),
        };
      };
      expect([...seen].sort()).toEqual(["duplicate", "queued", "ticket_live", "ticket_stale"]);
      const a = await snapshot(pa);
      expect(a.seq).toBeGreaterThan(20);
      expect(a.servers.filter(([, s]) => s.state === "allocated").length).toBeGreaterThan(0);
      expect(await snapshot(pb)).toEqual(a);
      expect(await checkInvariants(new RawRegion(redis, pa), MODES, playerIds)).toEqual([]);
    });

    it("scripts reload themselves after the node's script cache is flushed (NOSCRIPT fallback)", async () => {
      const { store, req, prefix } = fresh();
      await store.enqueue([req("a", "squad")]);
      await redis.command(routingKey(prefix, REGION), ["SCRIPT", "FLUSH"]);
      expect(at((await store.enqueue([req("b", "squad")])).results, 0).outcome).toBe("queued");
      expect((await store.getPlayer(REGION, "b"))?.state).toBe("waiting");
    });

    it("invariants hold under 8 concurrent clients throwing interleaved batches", async () => {
      const prefix = uniquePrefix();
      const clock = new TestClock();
      const clients: MatchmakingStore[] = [];
      for (let i = 0; i < 8; i++) {
        const c = await connect(getTarget());
        opened.push(c);
        clients.push(makeStore(c, clock, { prefix, serverLeaseSeconds: 5 }));
      }
      const report = await runConcurrencyScenario({ clients, clock, seed: 20260101, iterations: 150, region: REGION });
      const violations = await checkInvariants(new RawRegion(redis, prefix), MODES, report.playerIds);
      if (process.env.STORE_DEBUG) console.log(JSON.stringify(report.counts));
      expect(violations).toEqual([]);
      // the run really exercised every path
      for (const outcome of ["queued", "duplicate", "rejected:ticket_live", "left", "alreadyLeft", "preempted", "assigned", "released", "expired-allocated"]) {
        expect(report.counts[outcome] ?? 0, outcome).toBeGreaterThan(0);
      }
      // Redelivering every ticket that reached the store, all at once, changes nothing.
      const raw = new RawRegion(redis, prefix);
      const guarded: EnqueueRequest[] = [];
      for (const r of new Map(report.reached.map((x) => [x.ticketId, x])).values()) guarded.push(r);
      expect(guarded.length).toBeGreaterThan(100);
      const before = [await raw.get("SessionSeq"), await raw.hash("WaitingPerMode"), await raw.waitStarts()];
      const again = await at(clients, 1).enqueue(guarded);
      expect(again.results.filter((x) => x.outcome !== "duplicate")).toEqual([]);
      expect([await raw.get("SessionSeq"), await raw.hash("WaitingPerMode"), await raw.waitStarts()]).toEqual(before);
      expect(await checkInvariants(raw, MODES, report.playerIds)).toEqual([]);
      const st = await at(clients, 0).stats(REGION);
      expect(st.waitingPlayers).toBe(Object.values(st.waitingByMode).reduce((x, y) => x + y, 0));
    });
  });
}
