/**
 * Game servers are global (DESIGN.md section 6): a serverId lives in one region at a time, a heartbeat finds
 * it there, no two live servers share an address, and a claimed server confirms its session within the claim
 * window (requeue before, serverLost after). Run against a standalone redis-server and a 3-master cluster
 * (servers.standalone.test.ts, servers.cluster.test.ts): the index and the regions are different slots.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnqueueRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import { checkServerIndex, serverIndexSnapshot } from "../support/serverIndex";
import { checkInvariants, connect, makeStore, MODES, RawRegion, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { runServerChurn } from "./concurrencyScenario";
import { loadScripts } from "../../src/store/scriptLoader";
import { regionPrefix, routingKey, SERVER_INDEX, serverIndexKey, serverIndexPrefix } from "../../src/store/keys";

const EAST = "eastus";
const WEST = "westeurope";
const REGIONS = [WEST, EAST];

export function defineServerSuite(targetName: string, getTarget: () => StoreTarget): void {
  describe(`game servers on ${targetName}`, () => {
    let redis: RedisConnection;
    const opened: RedisConnection[] = [];

    beforeAll(async () => {
      redis = await connect(getTarget());
      opened.push(redis);
    });
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close()));
    });

    function fresh(o: { serverLeaseSeconds?: number; serverClaimSeconds?: number } = {}) {
      const clock = new TestClock();
      const prefix = uniquePrefix();
      const store = makeStore(redis, clock, { prefix, regions: REGIONS, ...o });
      const raw = { [WEST]: new RawRegion(redis, prefix, WEST), [EAST]: new RawRegion(redis, prefix, EAST) };
      let n = 0;
      const req = (playerId: string, region = WEST, mode = "duel"): EnqueueRequest => ({
        ticketId: `tk-${playerId}-${++n}`,
        playerId,
        mode,
        region,
        requestedAtMs: clock.ms,
      });
      /** A heartbeat as a server sends it: no region. */
      const beat = (serverId: string, address: string) => store.registerServer({ serverId, address, defaultRegion: WEST });
      const index = () => checkServerIndex(redis, prefix, REGIONS, { quiescent: true });
      const invariants = async (players: string[]) => [
        ...(await checkInvariants(raw[WEST], MODES, players)),
        ...(await checkInvariants(raw[EAST], MODES, players)),
        ...(await index()),
      ];
      return { clock, prefix, store, raw, req, beat, index, invariants };
    }

    /** Fills one duel session in `region` and assigns it; returns the assignment. */
    async function match(store: MatchmakingStore, req: (p: string, r?: string) => EnqueueRequest, region: string, players: [string, string]) {
      await store.enqueue(players.map((p) => req(p, region)));
      return (await store.assign(region)).assigned;
    }

    describe("one region per serverId", () => {
      it("a heartbeat without region finds the server where it lives; es-9 is never allocated twice", async () => {
        const { store, req, beat, raw, invariants } = fresh();
        expect(await store.registerServer({ serverId: "es-9", region: EAST, address: "10.9.0.9:7777" })).toMatchObject({
          outcome: "registered",
          server: { region: EAST },
        });
        // Before the global index this answered "registered" again, in the default region (westeurope).
        const hb = await beat("es-9", "10.9.0.9:7777");
        expect(hb).toMatchObject({ outcome: "heartbeat", server: { serverId: "es-9", region: EAST } });
        expect(Object.keys(await raw[WEST].hash("Servers"))).toEqual([]);
        const east = await match(store, req, EAST, ["e1", "e2"]);
        const west = await match(store, req, WEST, ["w1", "w2"]);
        expect(east.map((a) => a.serverId)).toEqual(["es-9"]);
        expect(west).toEqual([]);
        expect(await invariants(["e1", "e2", "w1", "w2"])).toEqual([]);
      });

      it("a live server named in another region is refused (region_conflict), and changes nothing", async () => {
        const { store, raw, prefix, invariants } = fresh();
        await store.registerServer({ serverId: "es-9", region: EAST, address: "10.9.0.9:7777" });
        const before = await serverIndexSnapshot(redis, prefix, REGIONS);
        const out = await store.registerServer({ serverId: "es-9", region: WEST, address: "10.9.0.9:7777" });
        expect(out).toMatchObject({ outcome: "rejected", error: "region_conflict", region: EAST });
        expect(out.outcome === "rejected" && out.retryAfterMs).toBeGreaterThan(0);
        expect(await serverIndexSnapshot(redis, prefix, REGIONS)).toEqual(before);
        expect(Object.keys(await raw[WEST].hash("Servers"))).toEqual([]);
        expect(await invariants([])).toEqual([]);
      });

      it("a server whose lease lapsed may register in another region: its old record is retired first (unconfirmed group requeued)", async () => {
        const { store, req, raw, clock, invariants } = fresh({ serverLeaseSeconds: 10 });
        await store.registerServer({ serverId: "mover", region: EAST, address: "10.9.0.1:7777" });
        const [a] = await match(store, req, EAST, ["e1", "e2"]);
        clock.advance(11_000); // lapsed, and no sweep has run
        const moved = await store.registerServer({ serverId: "mover", region: WEST, address: "10.9.0.1:7777" });
        expect(moved).toMatchObject({ outcome: "registered", server: { region: WEST, state: "available" } });
        expect(Object.keys(await raw[EAST].hash("Servers"))).toEqual([]);
        expect(await raw[EAST].hash("Session", a!.sessionId)).toMatchObject({ state: "ready" });
        expect(await store.getPlayer(EAST, "e1")).toMatchObject({ state: "waiting" });
        expect(await invariants(["e1", "e2"])).toEqual([]);
      });

      it("release, allocation and DELETE without region act on the server where it lives", async () => {
        const { store, req, raw, invariants } = fresh();
        await store.registerServer({ serverId: "far", region: EAST, address: "10.9.0.2:7777" });
        const [a] = await match(store, req, EAST, ["e1", "e2"]);
        // Before, each of these looked in the default region (westeurope) and answered notFound.
        expect(await store.getServer(undefined, "far")).toMatchObject({ server: { region: EAST, state: "allocated" }, session: { sessionId: a!.sessionId } });
        expect(await store.releaseServer({ serverId: "far" })).toMatchObject({ outcome: "released", endedSessionId: a!.sessionId, server: { region: EAST } });
        expect(await raw[EAST].exists("Session", a!.sessionId)).toBe(false);
        expect(await store.deregisterServer({ serverId: "far" })).toEqual({ outcome: "removed", region: EAST });
        expect(await store.getServer(undefined, "far")).toBeNull();
        expect(await store.releaseServer({ serverId: "far" })).toEqual({ outcome: "notFound" });
        expect(await store.deregisterServer({ serverId: "far" })).toEqual({ outcome: "notFound" });
        expect(await invariants(["e1", "e2"])).toEqual([]);
        // Gone from the index too: it may register anywhere now.
        expect(await store.registerServer({ serverId: "far", region: WEST, address: "10.9.0.2:7777" })).toMatchObject({ outcome: "registered" });
      });
    });

    describe("one live server per address", () => {
      it("a second id at a live server's address is refused (address_in_use), in any region", async () => {
        const { store, req, prefix, invariants } = fresh();
        await store.registerServer({ serverId: "old", region: WEST, address: "10.9.1.1:7777" });
        const before = await serverIndexSnapshot(redis, prefix, REGIONS);
        for (const region of REGIONS) {
          const out = await store.registerServer({ serverId: "new", region, address: "10.9.1.1:7777" });
          expect(out).toMatchObject({ outcome: "rejected", error: "address_in_use", heldBy: "old" });
        }
        expect(await serverIndexSnapshot(redis, prefix, REGIONS)).toEqual(before);
        // Before: both ids were registered and both allocated.
        await store.enqueue([req("a"), req("b"), req("c"), req("d")]);
        expect((await store.assign(WEST)).assigned.map((x) => x.serverId)).toEqual(["old"]);
        expect(await invariants(["a", "b", "c", "d"])).toEqual([]);
      });

      it("a restarted server under a new id takes the address once the old lease lapsed; the old record is retired, its late heartbeat refused", async () => {
        const { store, req, clock, raw, invariants } = fresh({ serverLeaseSeconds: 10 });
        await store.registerServer({ serverId: "gen1", region: WEST, address: "10.9.2.2:7777" });
        const [a] = await match(store, req, WEST, ["a", "b"]);
        await store.ackServer({ serverId: "gen1" }); // confirmed: its death ends the game
        clock.advance(11_000);
        const gen2 = await store.registerServer({ serverId: "gen2", region: EAST, address: "10.9.2.2:7777" });
        expect(gen2).toMatchObject({ outcome: "registered", server: { region: EAST } });
        expect(Object.keys(await raw[WEST].hash("Servers"))).toEqual([]);
        expect(await store.getPlayer(WEST, "a")).toMatchObject({ state: "matched", serverId: "gen1", serverLostAtMs: clock.ms });
        expect(await raw[WEST].exists("Session", a!.sessionId)).toBe(false);
        const late = await store.registerServer({ serverId: "gen1", address: "10.9.2.2:7777", defaultRegion: WEST });
        expect(late).toMatchObject({ outcome: "rejected", error: "address_in_use", heldBy: "gen2" });
        expect(await invariants(["a", "b"])).toEqual([]);
      });
    });

    describe("the claim window", () => {
      it("an allocated server has a claim window; its heartbeat confirms the claim", async () => {
        const { store, req, beat, raw, clock } = fresh({ serverClaimSeconds: 60 });
        await beat("s1", "10.9.3.1:7777");
        const [a] = await match(store, req, WEST, ["a", "b"]);
        expect((await store.getServer(undefined, "s1"))?.server).toMatchObject({ state: "allocated", claimExpiresAtMs: clock.ms + 60_000 });
        expect((await store.getServer(undefined, "s1"))?.server.confirmedAtMs).toBeUndefined();
        expect(await raw[WEST].zset("ServerClaims")).toEqual(new Map([["s1", clock.ms + 60_000]]));
        clock.advance(3_000);
        const hb = await beat("s1", "10.9.3.1:7777");
        expect(hb).toMatchObject({ outcome: "heartbeat", confirmedSessionId: a!.sessionId, server: { confirmedAtMs: clock.ms } });
        expect(hb.outcome === "heartbeat" && hb.server.claimExpiresAtMs).toBeUndefined();
        expect(await raw[WEST].zset("ServerClaims")).toEqual(new Map());
        const again = await beat("s1", "10.9.3.1:7777");
        expect(again.outcome === "heartbeat" && again.confirmedSessionId).toBeUndefined();
      });

      it("ack confirms once; it names the session or refuses (notAllocated, sessionMismatch, notFound)", async () => {
        const { store, req, beat } = fresh();
        expect(await store.ackServer({ serverId: "ghost" })).toEqual({ outcome: "notFound" });
        await beat("s1", "10.9.3.2:7777");
        expect(await store.ackServer({ serverId: "s1" })).toMatchObject({ outcome: "notAllocated" });
        const [a] = await match(store, req, WEST, ["a", "b"]);
        expect(await store.ackServer({ serverId: "s1", sessionId: `${WEST}.999` })).toMatchObject({ outcome: "sessionMismatch" });
        expect(await store.ackServer({ serverId: "s1", sessionId: a!.sessionId })).toMatchObject({ outcome: "confirmed", sessionId: a!.sessionId });
        expect(await store.ackServer({ serverId: "s1" })).toMatchObject({ outcome: "alreadyConfirmed", sessionId: a!.sessionId });
        expect(await store.ackServer({ serverId: "s1", region: EAST })).toEqual({ outcome: "notFound" });
      });

      it("dying before confirming requeues the group at the FRONT with fresh deadlines, also after a long wait (issue 9 repro)", async () => {
        // MATCH_TIMEOUT_SECONDS=10 gives the stale sweeper a 40 s allowance; the server dies unconfirmed 46 s in.
        const { store, req, beat, clock, raw, invariants } = fresh({ serverLeaseSeconds: 46, serverClaimSeconds: 60 });
        await beat("doomed", "10.9.4.1:7777");
        const [a] = await match(store, req, WEST, ["a", "b"]);
        await store.enqueue([req("c"), req("d")]); // an older-by-nothing group behind it
        clock.advance(47_000);
        await beat("next", "10.9.4.2:7777");
        const exp = await store.expireServers(WEST);
        expect(exp.expired).toEqual([{ serverId: "doomed", wasAllocated: true, sessionId: a!.sessionId, reason: "lease", session: "requeued" }]);
        expect(exp.requeuedSessions).toEqual([a!.sessionId]);
        // The very next sweep step (expireStale with the 40 s allowance) must not expire the requeued group:
        // before, requeue restored the original request times and this expired a and b at once.
        const stale = await store.expireStale(WEST, { playerMaxAgeMs: 40_000, sessionMaxAgeMs: 80_000 });
        expect(stale.expiredPlayers.map((p) => p.playerId).sort()).toEqual(["c", "d"]);
        expect(await raw[WEST].waitStarts()).toEqual(
          new Map([
            ["a", clock.ms],
            ["b", clock.ms],
          ]),
        );
        expect(await store.getPlayer(WEST, "a")).toMatchObject({ state: "waiting", sessionId: a!.sessionId });
        const again = await store.assign(WEST);
        expect(again.assigned).toMatchObject([{ sessionId: a!.sessionId, serverId: "next" }]);
        expect(await invariants(["a", "b", "c", "d"])).toEqual([]);
      });

      it("a claim not confirmed within the window lapses even while the lease lives: requeued, the server re-registers", async () => {
        const { store, req, beat, clock, invariants } = fresh({ serverLeaseSeconds: 120, serverClaimSeconds: 60 });
        await beat("mute", "10.9.5.1:7777");
        const [a] = await match(store, req, WEST, ["a", "b"]);
        clock.advance(59_000);
        expect((await store.expireServers(WEST)).expired).toEqual([]);
        clock.advance(2_000);
        const exp = await store.expireServers(WEST);
        expect(exp.expired).toEqual([{ serverId: "mute", wasAllocated: true, sessionId: a!.sessionId, reason: "claim", session: "requeued" }]);
        expect(await store.getServer(undefined, "mute")).toBeNull();
        expect(await beat("mute", "10.9.5.1:7777")).toMatchObject({ outcome: "registered", server: { state: "available" } });
        expect(await invariants(["a", "b"])).toEqual([]);
      });

      it("dying after confirming ends the game: players read serverLost, nobody is requeued", async () => {
        const { store, req, beat, clock, raw, invariants } = fresh({ serverLeaseSeconds: 10 });
        await beat("s1", "10.9.6.1:7777");
        const [a] = await match(store, req, WEST, ["a", "b"]);
        clock.advance(5_000);
        await beat("s1", "10.9.6.1:7777"); // confirms
        clock.advance(11_000);
        const exp = await store.expireServers(WEST);
        expect(exp).toMatchObject({ lostSessions: [a!.sessionId], requeuedSessions: [] });
        expect(exp.expired).toEqual([{ serverId: "s1", wasAllocated: true, sessionId: a!.sessionId, reason: "lease", session: "lost" }]);
        for (const p of ["a", "b"]) {
          expect(await store.getPlayer(WEST, p)).toMatchObject({ state: "matched", serverId: "s1", address: "10.9.6.1:7777", serverLostAtMs: clock.ms });
        }
        expect(await raw[WEST].exists("Session", a!.sessionId)).toBe(false);
        expect(await raw[WEST].zmembers("SessionsReady")).toEqual([]);
        expect(await raw[WEST].waitStarts()).toEqual(new Map());
        expect(await invariants(["a", "b"])).toEqual([]);
        // The players may ask again: a new ticket starts fresh (no lost mark).
        await store.enqueue([req("a")]);
        expect((await store.getPlayer(WEST, "a"))?.serverLostAtMs).toBeUndefined();
      });
    });

    describe("fencing", () => {
      it("a register that arrives after its claim's record was retired is fenced and retried under a fresh token (never resurrects it)", async () => {
        const { store, prefix, clock, raw, invariants, beat } = fresh({ serverLeaseSeconds: 10 });
        await beat("s1", "10.9.7.1:7777");
        const token1 = JSON.parse((await raw[WEST].hash("Servers")).s1!).token as number;
        clock.advance(11_000);
        await store.expireServers(WEST); // record retired, token fenced, index forgot it
        expect(await raw[WEST].hash("ServerFence")).toEqual({ s1: String(token1) });
        // A delayed step 3 still carrying token1 (as if its claim had been read before the expiry):
        const script = loadScripts().registerServer;
        const key = routingKey(prefix, WEST);
        const payload = { now: clock.ms, region: WEST, serverId: "s1", address: "10.9.7.1:7777", token: token1, leaseExpiresAt: clock.ms + 10_000 };
        const reply = await redis.runScript(key, script.sha, script.body, [key], [regionPrefix(prefix, WEST), JSON.stringify(payload)]);
        expect(JSON.parse(String(reply))).toEqual({ outcome: "fenced" });
        expect(await raw[WEST].hash("Servers")).toEqual({});
        // The store's own register takes a fresh token.
        const again = await beat("s1", "10.9.7.1:7777");
        expect(again).toMatchObject({ outcome: "registered" });
        expect(JSON.parse((await raw[WEST].hash("Servers")).s1!).token).toBeGreaterThan(token1);
        expect(await invariants([])).toEqual([]);
      });
    });

    describe("a crash between the steps", () => {
      it("after the claim, before the retire: the index keeps the retire task, and the next call finishes it before writing", async () => {
        const { store, req, raw, prefix, clock, invariants } = fresh({ serverLeaseSeconds: 10 });
        await store.registerServer({ serverId: "mover", region: EAST, address: "10.9.8.1:7777" });
        const [a] = await match(store, req, EAST, ["e1", "e2"]);
        clock.advance(11_000);
        // Step 1 alone (the caller dies right after it): the claim moves the lapsed server to westeurope.
        const script = loadScripts().claimServer;
        const key = serverIndexKey(prefix, SERVER_INDEX.Where);
        const payload = { now: clock.ms, serverId: "mover", address: "10.9.8.1:7777", leaseMs: 10_000, region: WEST };
        const claimed = JSON.parse(String(await redis.runScript(key, script.sha, script.body, [key], [serverIndexPrefix(prefix), JSON.stringify(payload)])));
        expect(claimed).toMatchObject({ outcome: "claimed", region: WEST, retire: [{ serverId: "mover", region: EAST }] });
        // One record still (the old one, lapsed), none in westeurope; the displaced record is a pending task.
        expect(Object.keys(await raw[EAST].hash("Servers"))).toEqual(["mover"]);
        expect(Object.keys(await raw[WEST].hash("Servers"))).toEqual([]);
        expect(await checkServerIndex(redis, prefix, REGIONS, { quiescent: false })).toEqual([]);
        // The server's next heartbeat runs the task (retire in eastus, fence) before writing in westeurope.
        const hb = await store.registerServer({ serverId: "mover", address: "10.9.8.1:7777", defaultRegion: WEST });
        expect(hb).toMatchObject({ outcome: "registered", server: { region: WEST } });
        expect(Object.keys(await raw[EAST].hash("Servers"))).toEqual([]);
        expect(await raw[EAST].hash("Session", a!.sessionId)).toMatchObject({ state: "ready" });
        expect(await invariants(["e1", "e2"])).toEqual([]);
      });

      it("after the region removed a record, before the index forgot it: the stale entry is fenced and replaced", async () => {
        const { raw, prefix, clock, invariants, beat } = fresh({ serverLeaseSeconds: 10 });
        await beat("s1", "10.9.8.2:7777");
        clock.advance(11_000);
        // expireServers' region step alone (the caller dies before forgetServers).
        const script = loadScripts().expireServers;
        const key = routingKey(prefix, WEST);
        const payload = { now: clock.ms, region: WEST, maxServers: 100, maxPlayers: 200 };
        await redis.runScript(key, script.sha, script.body, [key], [regionPrefix(prefix, WEST), JSON.stringify(payload)]);
        expect(await raw[WEST].hash("Servers")).toEqual({});
        expect((await serverIndexSnapshot(redis, prefix, REGIONS)).where.has("s1")).toBe(true);
        // Another id may take the lapsed address; s1 itself re-registers under a fresh token.
        expect(await beat("s2", "10.9.8.2:7777")).toMatchObject({ outcome: "registered" });
        expect(await beat("s1", "10.9.8.3:7777")).toMatchObject({ outcome: "registered" });
        expect(await invariants([])).toEqual([]);
      });
    });

    it("server churn across two regions (region-less heartbeats, restarts under new ids, moves, acks, expiry) keeps every invariant", async () => {
      const prefix = uniquePrefix();
      const clock = new TestClock();
      const clients: MatchmakingStore[] = [];
      for (let i = 0; i < 6; i++) {
        const c = await connect(getTarget());
        opened.push(c);
        clients.push(makeStore(c, clock, { prefix, regions: REGIONS, serverLeaseSeconds: 5, serverClaimSeconds: 3 }));
      }
      const report = await runServerChurn({ clients, clock, seed: 9_2026, iterations: 120, regions: REGIONS, defaultRegion: WEST });
      const violations = [
        ...(await checkInvariants(new RawRegion(redis, prefix, WEST), MODES, report.playerIds)),
        ...(await checkInvariants(new RawRegion(redis, prefix, EAST), MODES, report.playerIds)),
        ...(await checkServerIndex(redis, prefix, REGIONS, { quiescent: true })),
      ];
      if (process.env.STORE_DEBUG) console.log(JSON.stringify(report.counts));
      expect(violations).toEqual([]);
      for (const k of [
        "registered",
        "heartbeat",
        "rejected:address_in_use",
        "rejected:region_conflict",
        "assignments",
        "expired:requeued",
        "confirmed",
        "released",
      ]) {
        expect(report.counts[k] ?? 0, k).toBeGreaterThan(0);
      }
    });
  });
}
