/**
 * Regions chosen by latency (issue 14), written once and run against a standalone redis-server and a
 * 3-master Redis Cluster (latency.standalone.test.ts, latency.cluster.test.ts): a zone's regions share one
 * hash slot, tickets of a latency mode wait in the zone's pool and a full group is placed in one region
 * within the max in force, preferring a region with a free server. Real Redis, the injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnqueueRequest, LeaveRequest, MatchmakingStore, RedisConnection } from "../../src/store";
import { latencyMaxAt, normalizeModes, type ModeSpec } from "../../src/domain/modeRules";
import { latencyPoolPrefix, regionKey } from "../../src/store/keys";
import { checkInvariants, connect, makeStore, RawRegion, TestClock, uniquePrefix, type StoreTarget } from "../support/storeHarness";
import { prng } from "./concurrencyScenario";
import { at } from "../support/at";

export const LATENCY_MODES: Record<string, ModeSpec> = {
  duel: 2,
  geo: { teamSize: 2, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } },
  geo4: {
    teamSize: 4,
    latency: {
      max: 60,
      widen: [
        { afterSeconds: 10, max: 100 },
        { afterSeconds: 30, max: 200 },
      ],
    },
  },
};
const RULES = normalizeModes(LATENCY_MODES);
const SIZES = Object.fromEntries(Object.entries(RULES).map(([m, r]) => [m, r.size]));
const EU = ["westeurope", "northeurope", "uksouth"];
const US = ["eastus", "westus"];
const REGIONS = [...EU, ...US, "japaneast"];
const ZONES: Record<string, string> = { westeurope: "eu", northeurope: "eu", uksouth: "eu", eastus: "us", westus: "us" };

/**
 * The latency pool's rules, read from Redis: a waiting pool ticket is in its mode's wait index and in the
 * latency index of every region it may be placed in, the counts agree, it waits in no region too; a placed
 * ticket's session is in a region of its home zone and holds it (or ended); every session the pool formed
 * has each member's latency to its region within the max in force for the group's longest wait at its
 * creation, and only members of its zone.
 */
async function checkLatencyInvariants(redis: RedisConnection, prefix: string, playerIds: Iterable<string>): Promise<string[]> {
  const bad: string[] = [];
  const tags = new Set(REGIONS.map((r) => r));
  const slotOf = (region: string) => (ZONES[region] ? `zone.${ZONES[region]}` : region);
  const pools = new Map<string, string>();
  for (const r of tags) pools.set(slotOf(r), latencyPoolPrefix(prefix, r, ZONES));
  const cmd = <T>(key: string, args: string[]) => redis.command<T>(key, [args[0]!, key, ...args.slice(1)]);
  const hash = async (key: string) => {
    const flat = await cmd<string[]>(key, ["HGETALL"]);
    const o: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
    return o;
  };
  for (const [slot, pool] of pools) {
    const waiting = new Map<string, number>();
    for (const mode of Object.keys(RULES)) {
      const flat = await cmd<string[]>(`${pool}Waiting:${mode}`, ["ZRANGE", "0", "-1"]);
      for (const pid of flat) waiting.set(`${mode}/${pid}`, 1);
      const counted = Number((await hash(`${pool}WaitingPerMode`))[mode] ?? 0);
      if (counted !== flat.length) bad.push(`${slot}: WaitingPerMode ${mode} = ${counted} but ${flat.length} wait`);
    }
    for (const pid of new Set(playerIds)) {
      const rec = await hash(`${pool}Player:${pid}`);
      if (!rec.state) continue;
      const key = `${rec.mode}/${pid}`;
      if (rec.state === "waiting") {
        if (!waiting.delete(key)) bad.push(`${slot}: pooled ${pid} not in Waiting:${rec.mode}`);
        for (const part of (rec.lat ?? "").split(",")) {
          const [r, ms] = part.split("=");
          const score = await cmd<string | null>(`${pool}ByLatency:${rec.mode}:${r}`, ["ZSCORE", pid]);
          if (score === null || Number(score) !== (ms === "?" ? 0 : Number(ms))) bad.push(`${slot}: pooled ${pid} has ${r}=${ms} but index ${score}`);
        }
        for (const r of REGIONS.filter((x) => slotOf(x) === slot)) {
          const p = await new RawRegion(redis, prefix, r, ZONES).player(pid);
          if (p.state === "waiting") bad.push(`${pid} waits in the pool and in ${r} (${p.session})`);
        }
      } else if (rec.state === "placed") {
        if (slotOf(rec.region!) !== slot) bad.push(`${pid} placed in ${rec.region}, outside its slot ${slot}`);
        const p = await new RawRegion(redis, prefix, rec.region!, ZONES).player(pid);
        if (p.ticketId === rec.ticketId && p.state === "waiting" && p.session !== rec.session)
          bad.push(`${pid} placed in ${rec.session} but its record says ${p.session}`);
      } else if (rec.state !== "left") bad.push(`${pid}: pool state ${rec.state}`);
    }
    for (const k of waiting.keys()) bad.push(`${slot}: Waiting holds ${k} without a waiting record`);
  }
  for (const region of REGIONS) {
    const raw = new RawRegion(redis, prefix, region, ZONES);
    const seq = Number((await raw.get("SessionSeq")) ?? 0);
    for (let i = 1; i <= seq; i++) {
      const h = await raw.hash("Session", `${region}.${i}`);
      if (!h.latencies || !h.mode) continue;
      const rule = RULES[h.mode]?.latency;
      if (!rule) {
        bad.push(`${region}.${i}: latencies on a session of ${h.mode}`);
        continue;
      }
      // The group was formed under the max of its anchor's wait (latencyWaitMs): every latency within it, and
      // that wait no longer than the group's longest (checked while every member's record is still this ticket's).
      const sid = `${region}.${i}`;
      const wait = Number(h.latencyWaitMs);
      const max = latencyMaxAt(rule, wait / 1000);
      for (const [pid, ms] of Object.entries(JSON.parse(h.latencies) as Record<string, number>))
        if (!(ms <= max)) bad.push(`${sid}: ${pid} at ${ms} ms over the max ${max} in force after ${wait} ms`);
      const members = Object.keys(h).filter((k) => k.startsWith("@"));
      const records = await Promise.all(members.map((k) => raw.hash("Player", k.slice(1))));
      const intact = records.every((p, j) => p.ticketId === h[members[j]!]!.split(" ")[0] && p.session === sid);
      if (h.size === h.capacity && h.requeuedAt === undefined && h.latencyFilledAt === undefined && intact) {
        const longest = Number(h.latencyFilledAt ?? h.createdAt) - Math.min(...records.map((p) => Number(p.requestedAt)));
        if (wait > longest) bad.push(`${sid}: formed under a wait of ${wait} ms, longer than its longest ${longest} ms`);
      }
    }
  }
  return bad;
}

export function defineLatencySuite(targetName: string, getTarget: () => StoreTarget): void {
  describe(`regions chosen by latency on ${targetName}`, () => {
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
      const store = makeStore(redis, clock, { prefix, modes: LATENCY_MODES, regions: REGIONS, zones: ZONES });
      let n = 0;
      const req = (playerId: string, latencies: Record<string, number> | undefined, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
        ticketId: `tk-${playerId}-${++n}`,
        playerId,
        mode: "geo",
        region: latencies ? Object.entries(latencies).sort((a, b) => a[1] - b[1])[0]![0] : "westeurope",
        requestedAtMs: clock.ms,
        ...(latencies ? { latencies } : {}),
        ...extra,
      });
      let port = 7000;
      const server = (serverId: string, region: string) => store.registerServer({ serverId, region, address: `10.0.0.1:${++port}` });
      const raw = (region: string) => new RawRegion(redis, prefix, region, ZONES);
      const invariants = async (players: string[]) => {
        const bad = await checkLatencyInvariants(redis, prefix, players);
        for (const r of REGIONS) bad.push(...(await checkInvariants(raw(r), SIZES, players)).map((b) => `${r}: ${b}`));
        return bad;
      };
      return { clock, prefix, store, req, server, raw, invariants };
    }

    it("a player with latencies to two regions is matched in the one with a free server when both are within the limit", async () => {
      const { store, req, server, invariants } = fresh();
      await server("s-neu", "northeurope");
      // westeurope is nearer for both, but only northeurope has a free server; both are within 80 ms.
      const a = req("alice", { westeurope: 20, northeurope: 40 });
      const b = req("bob", { westeurope: 25, northeurope: 45 });
      const out = await store.enqueue([a, b]);
      // Placed together in this call: both tickets are in the session it filled.
      for (const r of out.results) expect(r).toMatchObject({ outcome: "queued", sessionId: "northeurope.1", sessionReady: true });
      expect(out.readySessions).toEqual([{ region: "northeurope", sessionId: "northeurope.1" }]);
      const assigned = await store.assign("northeurope");
      expect(assigned.assigned).toHaveLength(1);
      expect(assigned.assigned[0]).toMatchObject({ region: "northeurope", serverId: "s-neu", playerLatencies: { alice: 40, bob: 45 } });
      // The ticket is read where its token says (home westeurope) and shows where it was matched.
      const alice = await store.getPlayer("westeurope", "alice");
      expect(alice).toMatchObject({ ticketId: a.ticketId, state: "matched", region: "northeurope", serverId: "s-neu", latencyMs: 40 });
      // No free server anywhere now: the next pair goes to the region of lowest worst latency.
      const c = req("carol", { westeurope: 30, northeurope: 20 });
      const d = req("dave", { westeurope: 35, northeurope: 70 });
      const out2 = await store.enqueue([c, d]);
      expect(out2.readySessions).toEqual([{ region: "westeurope", sessionId: "westeurope.1" }]);
      expect(await invariants(["alice", "bob", "carol", "dave"])).toEqual([]);
    });

    it("never places a player in a region over the max in force; widening lets a far player match later", async () => {
      const { store, req, clock, invariants, raw } = fresh();
      // No region within 80 ms for both: alice is far from westeurope, bob from northeurope.
      const a = req("alice", { westeurope: 120, northeurope: 30 });
      const b = req("bob", { westeurope: 10, northeurope: 90 });
      const out = await store.enqueue([a, b]);
      expect(out.readySessions).toEqual([]);
      expect(out.results.map((r) => r.outcome === "queued" && r.sessionId)).toEqual(["", ""]);
      clock.advance(19_000);
      expect((await store.regroup("westeurope")).readySessions).toEqual([]);
      expect(await raw("westeurope").get("SessionSeq")).toBeNull();
      // After 20 s of waiting the max is 150: both regions fit, northeurope has the lower worst latency (90).
      clock.advance(1_000);
      const g = await store.regroup("westeurope");
      expect(g.readySessions).toEqual(["northeurope.1"]);
      const placed = await raw("northeurope").hash("Session", "northeurope.1");
      expect(placed.state).toBe("ready");
      expect(JSON.parse(placed.latencies!)).toEqual({ alice: 30, bob: 90 });
      // A far player alone: an anchor whose only region is over the max waits, however many near players come.
      const far = req("far", { uksouth: 140 }, { region: "uksouth" });
      const near = [1, 2, 3].map((i) => req(`near${i}`, { uksouth: 10 + i }, { region: "uksouth" }));
      const out2 = await store.enqueue([far, near[0]!, near[1]!]);
      expect(out2.readySessions).toEqual([{ region: "uksouth", sessionId: "uksouth.1" }]);
      expect(await raw("uksouth").sessionMembers("uksouth.1")).toEqual(["near1", "near2"]);
      await store.enqueue([near[2]!]);
      expect((await store.getPlayer("uksouth", "far"))?.state).toBe("waiting");
      clock.advance(20_000);
      await store.regroup("westeurope");
      expect((await store.getPlayer("uksouth", "far"))?.sessionId).toBe("uksouth.2");
      expect(await raw("uksouth").sessionMembers("uksouth.2")).toEqual(["far", "near3"]);
      expect(await invariants(["alice", "bob", "far", "near1", "near2", "near3"])).toEqual([]);
    });

    it("a session never mixes zones: players of two zones, each placed within its own zone's slot", async () => {
      const { store, req, invariants, prefix } = fresh();
      const players: EnqueueRequest[] = [];
      for (let i = 0; i < 8; i++) {
        // The home is the nearest region; a ticket may be placed only in its home's zone.
        const eu = i % 2 === 0;
        players.push(req(`z${i}`, eu ? { westeurope: 20 + i, eastus: 60 } : { eastus: 15 + i, westeurope: 70, westus: 40 }));
      }
      const out = await store.enqueue(players);
      expect(out.results.every((r) => r.outcome === "queued")).toBe(true);
      expect(out.readySessions.map((s) => s.region).sort()).toEqual(["eastus", "eastus", "westeurope", "westeurope"]);
      for (const s of out.readySessions) {
        const members = await new RawRegion(redis, prefix, s.region, ZONES).sessionMembers(s.sessionId);
        const homes = new Set(members.map((pid) => players.find((p) => p.playerId === pid)!.region));
        expect([...homes].map((h) => ZONES[h])).toEqual([ZONES[s.region]]);
      }
      // Both zones' keys, each in its own slot: the session keys carry the zone's hash tag.
      expect(regionKey(prefix, "eastus", "Session", "eastus.1", ZONES)).toContain("{zone.us}");
      expect(await invariants(players.map((p) => p.playerId))).toEqual([]);
    });

    it("leaves: a pooled ticket leaves the pool; a placed one leaves its region; a leave before the request makes it a no-op", async () => {
      const { store, req, invariants, clock, raw } = fresh();
      const a = req("alice", { westeurope: 20 });
      await store.enqueue([a]);
      const leave = (r: EnqueueRequest, reason: LeaveRequest["reason"] = "cancelled"): LeaveRequest => ({
        playerId: r.playerId,
        ticketId: r.ticketId,
        region: r.region,
        reason,
      });
      expect(await store.leave([leave(a)])).toEqual([{ outcome: "left", playerId: "alice", ticketId: a.ticketId, reason: "cancelled" }]);
      expect((await store.getPlayer("westeurope", "alice"))?.state).toBe("left");
      expect((await store.enqueue([a])).results[0]).toMatchObject({ outcome: "duplicate", state: "left" });
      expect((await store.leave([leave(a, "timedOut")]))[0]).toMatchObject({ outcome: "alreadyLeft", reason: "cancelled" });
      // Placed, then a member leaves: its region's leave (the ready session reopens).
      const b = req("bob", { westeurope: 20 });
      const c = req("carol", { westeurope: 30 });
      expect((await store.enqueue([b, c])).readySessions).toHaveLength(1);
      expect((await store.leave([leave(b)]))[0]).toMatchObject({ outcome: "left", sessionId: "westeurope.1" });
      // The sweep completes the reopened session from the pool (within the max of bob's... carol's wait).
      const f = req("frank", { westeurope: 40 });
      clock.advance(1000);
      await store.enqueue([f]);
      expect((await store.getPlayer("westeurope", "frank"))?.state).toBe("waiting");
      expect((await store.regroup("westeurope")).readySessions).toEqual(["westeurope.1"]);
      expect(await raw("westeurope").sessionMembers("westeurope.1")).toEqual(["carol", "frank"]);
      expect(JSON.parse((await raw("westeurope").hash("Session", "westeurope.1")).latencies!)).toMatchObject({ carol: 30, frank: 40 });
      // A leave that overtakes its request: the late request changes nothing.
      const d = req("dave", { westeurope: 20 });
      expect((await store.leave([leave(d)]))[0]).toMatchObject({ outcome: "preempted" });
      expect((await store.enqueue([d])).results[0]).toMatchObject({ outcome: "duplicate" });
      expect((await store.getPlayer("westeurope", "dave"))?.state).toBe("left");
      // A second live ticket of a pooled player is refused.
      const e1 = req("erin", { westeurope: 20 });
      await store.enqueue([e1]);
      const e2 = req("erin", { westeurope: 20 });
      expect((await store.enqueue([e2])).results[0]).toMatchObject({ outcome: "rejected", error: "ticket_live", liveTicketId: e1.ticketId });
      expect(await invariants(["alice", "bob", "carol", "dave", "erin", "frank"])).toEqual([]);
    });

    it.each([4242, 77])(
      "the concurrency invariants hold with latency tickets mixed in (several clients, servers, leaves, sweeps; seed %i)",
      async (seed) => {
        const { clock, prefix } = fresh();
        const clients: MatchmakingStore[] = [];
        for (let i = 0; i < 3; i++) {
          const c = await connect(getTarget());
          opened.push(c);
          clients.push(makeStore(c, clock, { prefix, modes: LATENCY_MODES, regions: REGIONS, zones: ZONES }));
        }
        const playerIds = Array.from({ length: 60 }, (_, i) => `cp${i}`);
        const sent: EnqueueRequest[] = [];
        let seq = 0;
        const counts: Record<string, number> = {};
        const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
        await Promise.all(
          clients.map(async (store, w) => {
            const rnd = prng(seed + w * 31);
            const pick = <T>(xs: readonly T[]): T => at(xs, Math.floor(rnd() * xs.length));
            for (let i = 0; i < 150; i++) {
              clock.advance(Math.floor(rnd() * 400));
              const x = rnd();
              if (x < 0.4) {
                const batch: EnqueueRequest[] = [];
                for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) {
                  if (sent.length && rnd() < 0.2) {
                    batch.push(pick(sent));
                    continue;
                  }
                  const mode = pick(["geo", "geo", "geo4", "duel"]);
                  const zone = pick([EU, US, ["japaneast"]]);
                  const latencies = Object.fromEntries(zone.filter(() => rnd() < 0.8).map((r) => [r, Math.floor(rnd() * 180)]));
                  const regions = Object.keys(latencies);
                  const home = regions.length ? regions.sort((p, q) => latencies[p]! - latencies[q]!)[0]! : pick(zone);
                  const r: EnqueueRequest = {
                    ticketId: `w${w}-t${++seq}`,
                    playerId: pick(playerIds),
                    mode,
                    region: home,
                    requestedAtMs: clock.ms - Math.floor(rnd() * 2000),
                  };
                  if (regions.length && rnd() < 0.9) r.latencies = latencies;
                  batch.push(r);
                }
                const out = await store.enqueue(batch);
                batch.forEach((b) => sent.push(b));
                for (const o of out.results) count(o.outcome === "rejected" ? `rejected:${o.error}` : o.outcome);
              } else if (x < 0.6 && sent.length) {
                const t = pick(sent);
                for (const o of await store.leave([
                  { playerId: t.playerId, ticketId: t.ticketId, region: t.region, reason: pick(["timedOut", "cancelled"] as const) },
                ]))
                  count(`leave:${o.outcome}`);
              } else if (x < 0.72) {
                const region = pick(REGIONS);
                const o = await store.registerServer({
                  serverId: `gs-${region}-${Math.floor(rnd() * 3)}`,
                  region,
                  address: `10.9.${REGIONS.indexOf(region)}.${Math.floor(rnd() * 3)}:7000`,
                });
                count(`server:${o.outcome}`);
              } else if (x < 0.82) {
                const o = await store.assign(pick(REGIONS));
                if (o.assigned.length) count("assigned");
              } else if (x < 0.88) {
                const region = pick(REGIONS);
                const srv = await store.listServers(region);
                if (srv.length) await store.releaseServer({ serverId: pick(srv).serverId, region });
              } else if (x < 0.96) {
                clock.advance(2000 + Math.floor(rnd() * 8000));
                for (const region of REGIONS) {
                  const g = await store.regroup(region);
                  if (g.readySessions.length) count("regrouped");
                }
              } else {
                for (const region of REGIONS) await store.expireStale(region, { playerMaxAgeMs: 40_000, sessionMaxAgeMs: 80_000 });
              }
            }
          }),
        );
        expect(counts.queued ?? 0).toBeGreaterThan(20);
        expect(counts.regrouped ?? 0).toBeGreaterThan(0);
        expect(counts.assigned ?? 0).toBeGreaterThan(0);
        const bad = await checkLatencyInvariants(redis, prefix, playerIds);
        for (const r of REGIONS) bad.push(...(await checkInvariants(new RawRegion(redis, prefix, r, ZONES), SIZES, playerIds)).map((b) => `${r}: ${b}`));
        expect(bad).toEqual([]);
      },
      120_000,
    );
  });
}
