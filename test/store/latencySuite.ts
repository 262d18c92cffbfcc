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
import { checkRulesInvariants, RULES_MODES } from "./rulesInvariants";
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
  // A ranked 5v5 with parties, a skill window that widens with wait, AND latency-based regions (issue 14).
  // (the rules tests' ranked: teams, parties and skill window, widening with wait.)
  ranked: { ...(RULES_MODES.ranked as Exclude<ModeSpec, number>), latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } },
};
const RULES = normalizeModes(LATENCY_MODES);
const SIZES = Object.fromEntries(Object.entries(RULES).map(([m, r]) => [m, r.size]));
const EU = ["westeurope", "northeurope", "uksouth"];
const US = ["eastus", "westus"];
/** The suite's layout: a zone eu of three regions, a zone us of two, and japaneast alone. */
export const LATENCY_REGIONS = [...EU, ...US, "japaneast"];
const REGIONS = LATENCY_REGIONS;
export const LATENCY_ZONES: Record<string, string> = { westeurope: "eu", northeurope: "eu", uksouth: "eu", eastus: "us", westus: "us" };
const ZONES = LATENCY_ZONES;

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
      // Units wait under their leader; the count is of players (a party counts its members).
      let players = 0;
      for (const pid of flat) {
        waiting.set(`${mode}/${pid}`, 1);
        players += ((await hash(`${pool}Player:${pid}`)).party ?? pid).split(",").length;
      }
      const counted = Number((await hash(`${pool}WaitingPerMode`))[mode] ?? 0);
      if (counted !== players) bad.push(`${slot}: WaitingPerMode ${mode} = ${counted} but ${players} players wait`);
      const bySkill = await cmd<string[]>(`${pool}BySkill:${mode}`, ["ZRANGE", "0", "-1"]);
      for (const pid of bySkill) if (!waiting.has(`${mode}/${pid}`)) bad.push(`${slot}: BySkill:${mode} holds ${pid}, not a waiting unit`);
    }
    for (const pid of new Set(playerIds)) {
      const rec = await hash(`${pool}Player:${pid}`);
      if (!rec.state) continue;
      const key = `${rec.mode}/${pid}`;
      const party = rec.party?.split(",") ?? [pid];
      if (rec.state === "waiting" && party[0] !== pid) {
        // A party member waits with its leader: the leader's record holds the same ticket, the indexes only the leader.
        const leader = await hash(`${pool}Player:${party[0]}`);
        if (leader.ticketId !== rec.ticketId || leader.state !== "waiting" || leader.party !== rec.party)
          bad.push(`${slot}: party member ${pid} waits but its leader ${party[0]} holds ${leader.ticketId} (${leader.state})`);
        if (waiting.has(key)) bad.push(`${slot}: party member ${pid} is in Waiting:${rec.mode}`);
      } else if (rec.state === "waiting") {
        if (!waiting.delete(key)) bad.push(`${slot}: pooled ${pid} not in Waiting:${rec.mode}`);
        for (const part of (rec.lat ?? "").split(",")) {
          const [r, ms] = part.split("=");
          const score = await cmd<string | null>(`${pool}ByLatency:${rec.mode}:${r}`, ["ZSCORE", pid]);
          if (score === null || Number(score) !== (ms === "?" ? 0 : Number(ms))) bad.push(`${slot}: pooled ${pid} has ${r}=${ms} but index ${score}`);
        }
        if (RULES[rec.mode!]?.skill) {
          const skills = (rec.skills ?? "").split(",").map(Number);
          const mid = (Math.min(...skills) + Math.max(...skills)) / 2;
          const score = await cmd<string | null>(`${pool}BySkill:${rec.mode}`, ["ZSCORE", pid]);
          if (skills.length !== party.length || score === null || Number(score) !== mid)
            bad.push(`${slot}: pooled ${pid} has skills ${rec.skills} but BySkill ${score}`);
        }
      }
      if (rec.state === "waiting") {
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

/** The pool's rules, and in every region the store's invariants and the match rules' (teams, parties, skill windows). */
export async function allLatencyInvariants(redis: RedisConnection, prefix: string, players: string[]): Promise<string[]> {
  const bad = await checkLatencyInvariants(redis, prefix, players);
  for (const r of REGIONS) {
    const raw = new RawRegion(redis, prefix, r, ZONES);
    bad.push(...(await checkInvariants(raw, SIZES, players)).map((b) => `${r}: ${b}`));
    bad.push(...(await checkRulesInvariants(raw, RULES, players)).map((b) => `${r}: ${b}`));
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
      const invariants = (players: string[]) => allLatencyInvariants(redis, prefix, players);
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
      // A new ticket completes the reopened session at intake (within the max of carol's wait), not only the sweep.
      const f = req("frank", { westeurope: 40 });
      clock.advance(1000);
      expect((await store.enqueue([f])).readySessions).toEqual([{ region: "westeurope", sessionId: "westeurope.1" }]);
      expect((await store.getPlayer("westeurope", "frank"))?.sessionId).toBe("westeurope.1");
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

    /** A ranked ticket: skill, party members as [playerId, skill], latencies (home = the nearest). */
    const ranked = (
      t: ReturnType<typeof fresh>,
      playerId: string,
      skill: number,
      latencies: Record<string, number>,
      party: [string, number][] = [],
    ): EnqueueRequest =>
      t.req(playerId, latencies, {
        mode: "ranked",
        skill,
        ...(party.length ? { party: party.map(([id, s]) => ({ playerId: id, skill: s })) } : {}),
      });
    const teamsOf = async (t: ReturnType<typeof fresh>, region: string, sid: string) => {
      const h = await t.raw(region).hash("Session", sid);
      return {
        h,
        teams: JSON.parse(h.teams!) as { players: string[] }[],
        quality: JSON.parse(h.quality!) as { skillSpread: number; teamSkillGap: number; waitSeconds: number },
        latencies: JSON.parse(h.latencies!) as Record<string, number>,
      };
    };

    it("a ranked 5v5 by latency: parties whole on one team, teams balanced, within the skill window and the latency max", async () => {
      const t = fresh();
      const { store, server, invariants } = t;
      await server("s-neu", "northeurope");
      const eu = (w: number, n: number) => ({ westeurope: w, northeurope: n });
      const skills: Record<string, number> = {};
      const tickets = [
        // Far out in skill (1900 against ~1500, window 200): never in this group.
        ranked(t, "odd", 1900, eu(20, 30)),
        ranked(t, "a1", 1500, eu(30, 50), [
          ["a2", 1520],
          ["a3", 1480],
        ]),
        ranked(t, "b1", 1550, eu(40, 35), [["b2", 1450]]),
        ranked(t, "c1", 1600, eu(25, 60), [["c2", 1410]]),
        ranked(t, "d1", 1510, eu(20, 20)),
        ranked(t, "d2", 1490, eu(10, 70)),
        ranked(t, "d3", 1530, eu(50, 45)),
      ];
      for (const r of tickets) for (const m of [{ playerId: r.playerId, skill: r.skill! }, ...(r.party ?? [])]) skills[m.playerId] = m.skill!;
      const out = await store.enqueue(tickets);
      expect(out.results.map((r) => r.outcome)).toEqual(Array(7).fill("queued"));
      // The one free server is in northeurope, and every latency there is within 80 ms: placed there.
      expect(out.readySessions).toEqual([{ region: "northeurope", sessionId: "northeurope.1" }]);
      const { teams, quality, latencies, h } = await teamsOf(t, "northeurope", "northeurope.1");
      expect(teams.map((x) => x.players.length)).toEqual([5, 5]);
      for (const party of [
        ["a1", "a2", "a3"],
        ["b1", "b2"],
        ["c1", "c2"],
      ])
        expect(new Set(party.map((p) => teams.findIndex((x) => x.players.includes(p)))).size).toBe(1);
      const all = teams.flatMap((x) => x.players);
      expect(all.sort()).toEqual(["a1", "a2", "a3", "b1", "b2", "c1", "c2", "d1", "d2", "d3"]);
      const sum = (ps: string[]) => ps.reduce((n, p) => n + skills[p]!, 0);
      const spread = Math.max(...all.map((p) => skills[p]!)) - Math.min(...all.map((p) => skills[p]!));
      expect(quality.skillSpread).toBe(spread);
      expect(spread).toBeLessThanOrEqual(200);
      expect(quality.teamSkillGap).toBe(Math.abs(sum(teams[0]!.players) - sum(teams[1]!.players)));
      // Balanced as the rules path balances (largest units first, into the lowest total): a1's party + d2 + d3
      // against the two pairs + d1, 7520 each, where the join-time packing (a1's party + b1's pair | the rest)
      // would leave a gap of 40.
      expect(quality.teamSkillGap).toBe(0);
      expect(Object.keys(latencies).sort()).toEqual(all.sort());
      for (const ms of Object.values(latencies)) expect(ms).toBeLessThanOrEqual(80);
      expect(h.units).toBeDefined();
      // The match carries the same contracts as every other path: teams, quality, playerLatencies.
      const assigned = await store.assign("northeurope");
      expect(assigned.assigned).toHaveLength(1);
      expect(assigned.assigned[0]).toMatchObject({ region: "northeurope", mode: "ranked", teams, quality, playerLatencies: latencies });
      // A party member's ticket, read where its token says (home westeurope), shows its team and the region.
      const a2 = await store.getPlayer("westeurope", "a2");
      expect(a2).toMatchObject({ state: "matched", region: "northeurope", party: ["a1", "a2", "a3"], skill: 1520, latencyMs: 50, teams });
      expect(a2?.team).toBe(teams.findIndex((x) => x.players.includes("a2")));
      expect((await store.getPlayer("westeurope", "odd"))?.state).toBe("waiting");
      expect(await invariants([...all, "odd"])).toEqual([]);
    });

    it("ranked by latency: never over the skill window or the latency max in force; widening lets an unusual or far player match later", async () => {
      const t = fresh();
      const { store, clock, raw, invariants } = t;
      // Nine players near 1500 and one at 1900: no group within the window of 200 (nine cannot fill ten).
      const odd = ranked(t, "odd", 1900, { westeurope: 20 });
      await store.enqueue([odd]);
      clock.advance(1000);
      const near = Array.from({ length: 9 }, (_, i) => ranked(t, `n${i}`, 1500 + 10 * i, { westeurope: 20 + i }));
      expect((await store.enqueue(near)).readySessions).toEqual([]);
      clock.advance(13_000);
      expect((await store.regroup("westeurope")).readySessions).toEqual([]);
      // The odd player has waited 15 s: the window is 400, and 1900 - 1500 fits.
      clock.advance(1000);
      expect((await store.regroup("westeurope")).readySessions).toEqual(["westeurope.1"]);
      const first = await teamsOf(t, "westeurope", "westeurope.1");
      expect(first.quality.skillSpread).toBe(400);
      expect(first.quality.waitSeconds).toBe(15);
      // A far player (130 ms, over the max of 80) and nine near ones of its skill: not before 20 s of waiting.
      const far = ranked(t, "far", 1000, { uksouth: 130 }, []);
      far.region = "uksouth";
      await store.enqueue([far]);
      const local = Array.from({ length: 9 }, (_, i) => {
        const r = ranked(t, `u${i}`, 1000 + i, { uksouth: 10 + i });
        r.region = "uksouth";
        return r;
      });
      clock.advance(500);
      expect((await store.enqueue(local.slice(0, 5))).readySessions).toEqual([]);
      // A tenth near one makes a group of ten without the far player.
      const tenth = ranked(t, "u9", 1005, { uksouth: 12 });
      tenth.region = "uksouth";
      expect((await store.enqueue([...local.slice(5), tenth])).readySessions).toEqual([{ region: "uksouth", sessionId: "uksouth.1" }]);
      expect(await raw("uksouth").sessionMembers("uksouth.1")).not.toContain("far");
      const more = Array.from({ length: 9 }, (_, i) => {
        const r = ranked(t, `v${i}`, 1000 + i, { uksouth: 10 + i });
        r.region = "uksouth";
        return r;
      });
      await store.enqueue(more.slice(0, 8));
      clock.advance(19_000);
      expect((await store.regroup("westeurope")).readySessions).toEqual([]);
      clock.advance(500);
      await store.enqueue(more.slice(8));
      // After 20 s the far player's max is 150: it anchors the group of the nine.
      const g = await store.regroup("westeurope");
      expect(g.readySessions).toEqual(["uksouth.2"]);
      const second = await teamsOf(t, "uksouth", "uksouth.2");
      expect(second.latencies.far).toBe(130);
      expect(Number(second.h.latencyWaitMs)).toBeGreaterThanOrEqual(20_000);
      expect(await invariants(["odd", "far", "u9", ...near, ...local, ...more].map((r) => (typeof r === "string" ? r : r.playerId)))).toEqual([]);
    });

    it("ranked by latency: a session never mixes zones", async () => {
      const t = fresh();
      const { store, invariants, prefix } = t;
      const players: EnqueueRequest[] = [];
      for (let i = 0; i < 20; i++) {
        const eu = i % 2 === 0;
        // Every ticket reports both zones; its home (the nearest region) decides the zone it may be placed in.
        players.push(ranked(t, `z${i}`, 1500 + i, eu ? { westeurope: 20 + i, eastus: 25 } : { eastus: 15 + i, westeurope: 20, westus: 40 }));
      }
      const out = await store.enqueue(players);
      expect(out.results.every((r) => r.outcome === "queued")).toBe(true);
      expect(out.readySessions.map((s) => s.region).sort()).toEqual(["eastus", "westeurope"]);
      for (const s of out.readySessions) {
        const members = await new RawRegion(redis, prefix, s.region, ZONES).sessionMembers(s.sessionId);
        expect(members).toHaveLength(10);
        const homes = new Set(members.map((pid) => ZONES[players.find((p) => p.playerId === pid)!.region]));
        expect([...homes]).toEqual([ZONES[s.region]]);
      }
      expect(await invariants(players.map((p) => p.playerId))).toEqual([]);
    });

    it("ranked by latency: a party leaves the pool whole; a leaver's placed session is refilled from the pool with a fitting unit", async () => {
      const t = fresh();
      const { store, clock, raw, invariants } = t;
      const p = ranked(t, "p1", 1500, { westeurope: 20 }, [
        ["p2", 1500],
        ["p3", 1500],
      ]);
      await store.enqueue([p]);
      expect(await store.getPlayer("westeurope", "p3")).toMatchObject({ state: "waiting", ticketId: p.ticketId, party: ["p1", "p2", "p3"] });
      // A member cancels: the whole party leaves the pool, and the others are named (their orchestrators are told).
      const left = await store.leave([{ playerId: "p2", ticketId: p.ticketId, region: p.region, reason: "cancelled" }]);
      expect(left[0]).toMatchObject({ outcome: "left", partyMembers: ["p1", "p3"] });
      for (const id of ["p1", "p2", "p3"]) expect((await store.getPlayer("westeurope", id))?.state).toBe("left");
      // A placed group of 2 + 3 + 5 solos; then the party of two leaves its session in the region.
      const duo = ranked(t, "q1", 1500, { westeurope: 20 }, [["q2", 1510]]);
      const trio = ranked(t, "r1", 1490, { westeurope: 30 }, [
        ["r2", 1480],
        ["r3", 1520],
      ]);
      const solos = Array.from({ length: 5 }, (_, i) => ranked(t, `s${i}`, 1500 + i, { westeurope: 10 + i }));
      expect((await store.enqueue([duo, trio, ...solos])).readySessions).toEqual([{ region: "westeurope", sessionId: "westeurope.1" }]);
      const out = await store.leave([{ playerId: "q2", ticketId: duo.ticketId, region: "westeurope", reason: "cancelled" }]);
      expect(out[0]).toMatchObject({ outcome: "left", sessionId: "westeurope.1", partyMembers: ["q1"] });
      expect(await raw("westeurope").hash("Session", "westeurope.1")).toMatchObject({ state: "open", size: "8" });
      // A solo far out in skill does not fit (window 200); a party of two near 1500 does: at intake, whole.
      clock.advance(1000);
      const off = ranked(t, "off", 1800, { westeurope: 15 });
      const pair = ranked(t, "t1", 1505, { westeurope: 40 }, [["t2", 1495]]);
      expect((await store.enqueue([off, pair])).readySessions).toEqual([{ region: "westeurope", sessionId: "westeurope.1" }]);
      const refilled = await teamsOf(t, "westeurope", "westeurope.1");
      expect(refilled.teams.flatMap((x) => x.players).sort()).toEqual(["r1", "r2", "r3", "s0", "s1", "s2", "s3", "s4", "t1", "t2"]);
      expect(new Set(["t1", "t2"].map((id) => refilled.teams.findIndex((x) => x.players.includes(id)))).size).toBe(1);
      expect(refilled.latencies).toMatchObject({ t1: 40, t2: 40, r1: 30 });
      expect((await store.getPlayer("westeurope", "off"))?.state).toBe("waiting");
      // A pooled pair that fits waits when a member leaves: the sweep refills (the pool's units, not only new ones).
      const pooled = ranked(t, "u1", 1500, { westeurope: 30 }, [["u2", 1500]]);
      await store.enqueue([pooled]);
      await store.leave([{ playerId: "t1", ticketId: pair.ticketId, region: "westeurope", reason: "cancelled" }]);
      clock.advance(20_000);
      expect((await store.regroup("westeurope")).readySessions).toEqual(["westeurope.1"]);
      expect((await store.getPlayer("westeurope", "u2"))?.sessionId).toBe("westeurope.1");
      const ids = ["p1", "p2", "p3", "q1", "q2", "r1", "r2", "r3", "s0", "s1", "s2", "s3", "s4", "off", "t1", "t2", "u1", "u2"];
      expect(await invariants(ids)).toEqual([]);
    });

    it("ranked by latency: refusals of the rules (party too large, skill missing, a live party member)", async () => {
      const t = fresh();
      const { store } = t;
      const live = ranked(t, "m1", 1500, { westeurope: 20 });
      await store.enqueue([live]);
      const six = ranked(
        t,
        "big",
        1500,
        { westeurope: 20 },
        [1, 2, 3, 4, 5].map((i) => [`big${i}`, 1500] as [string, number]),
      );
      const noSkill = t.req("nos", { westeurope: 20 }, { mode: "ranked" });
      const withLive = ranked(t, "lead", 1500, { westeurope: 20 }, [["m1", 1500]]);
      const out = await store.enqueue([six, noSkill, withLive]);
      expect(out.results.map((r) => r.outcome === "rejected" && r.error)).toEqual(["party_too_large", "skill_required", "party_member_live"]);
      expect(out.results[2]).toMatchObject({ liveTicketId: live.ticketId });
      expect(await store.getPlayer("westeurope", "lead")).toBeNull();
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
        const playerIds = Array.from({ length: 90 }, (_, i) => `cp${i}`);
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
                  const mode = pick(["geo", "geo", "geo4", "duel", "ranked", "ranked", "ranked"]);
                  // Ranked tickets mostly in one zone, so that groups of ten form among the players free at the time.
                  const zone = mode === "ranked" ? pick([EU, EU, EU, US]) : pick([EU, US, ["japaneast"]]);
                  const latencies = Object.fromEntries(zone.filter(() => rnd() < 0.8).map((r) => [r, Math.floor(rnd() * (mode === "ranked" ? 90 : 180))]));
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
                  if (mode === "ranked") {
                    // Skills near each other (window 200, 1000 after 30 s), sometimes a party of 2-3 drawn from the
                    // same players (so some members are live elsewhere, or repeated).
                    r.skill = 1000 + Math.floor(rnd() * 300);
                    if (rnd() < 0.35) {
                      const others = playerIds.filter((p) => p !== r.playerId);
                      const n = 1 + Math.floor(rnd() * 2);
                      r.party = Array.from({ length: n }, (_, k) => ({
                        playerId: others[(Math.floor(rnd() * others.length) + k) % others.length]!,
                        skill: 1000 + Math.floor(rnd() * 500),
                      }));
                    }
                  }
                  batch.push(r);
                }
                const out = await store.enqueue(batch);
                batch.forEach((b) => sent.push(b));
                for (const o of out.results) count(o.outcome === "rejected" ? `rejected:${o.error}` : o.outcome);
                const rankedReady = new Set(
                  out.results
                    .filter((o, k) => o.outcome === "queued" && o.sessionReady && batch[k]!.mode === "ranked")
                    .map((o) => o.outcome === "queued" && o.sessionId),
                );
                for (let k = 0; k < rankedReady.size; k++) count("ranked:intake");
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
                  for (const sid of g.readySessions)
                    if ((await new RawRegion(redis, prefix, sid.split(".")[0]!, ZONES).hash("Session", sid)).mode === "ranked") count("ranked:sweep");
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
        expect(await allLatencyInvariants(redis, prefix, playerIds)).toEqual([]);
        // The ranked tickets formed sessions (parties, skill, latency together), at intake and in the sweep.
        expect((counts["ranked:intake"] ?? 0) + (counts["ranked:sweep"] ?? 0)).toBeGreaterThan(2);
        expect(counts.queued ?? 0).toBeGreaterThan(40);
      },
      120_000,
    );
  });
}
