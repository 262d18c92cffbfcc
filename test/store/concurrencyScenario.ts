/**
 * A seeded, bounded random workload: several store clients (separate connections) interleave batches of
 * enqueues (new tickets and redeliveries), leaves (including ones that overtake their enqueue), server
 * register/heartbeat/release/deregister/expiry churn, assigns and stale sweeps. The caller checks the
 * invariants afterwards by reading Redis directly.
 */
import type { EnqueueRequest, LeaveRequest, MatchmakingStore } from "../../src/store";
import { seededRandom } from "../../tools/seededRandom";
import { at } from "../support/at";
import type { TestClock } from "../support/storeHarness";

/** The seeded generator the simulator uses (mulberry32): a failing scenario replays from its seed. */
export const prng = seededRandom;

export interface ScenarioReport {
  playerIds: string[];
  /** Every enqueue request sent (including redeliveries and never-queued ones). */
  sent: EnqueueRequest[];
  /** The tickets that reached the store (answered queued, or preempted by a leave): their redelivery is a duplicate. */
  reached: EnqueueRequest[];
  counts: Record<string, number>;
}

export async function runConcurrencyScenario(o: {
  clients: MatchmakingStore[];
  clock: TestClock;
  seed: number;
  iterations: number;
  region: string;
  players?: number;
  servers?: number;
  /**
   * Mix in the rules modes of test/store/rulesInvariants.ts (ranked 5v5 with parties and skill, a skill
   * duel, 3v3 parties): requests with skills and parties (members drawn from the same players, so some are
   * live or repeated), and regroup sweeps.
   */
  rules?: boolean;
}): Promise<ScenarioReport> {
  const { clock, region } = o;
  const playerIds = Array.from({ length: o.players ?? 96 }, (_, i) => `p${i}`);
  const serverIds = Array.from({ length: o.servers ?? 10 }, (_, i) => `srv${i}`);
  const modes = o.rules ? ["duel", "ranked", "ranked", "duo", "trio", "solo"] : ["duel", "duel", "squad", "solo"];
  const maxParty: Record<string, number> = { ranked: 5, trio: 3 };
  const sent: EnqueueRequest[] = [];
  const reached: EnqueueRequest[] = [];
  const sessionsSeen: string[] = [];
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  let ticketSeq = 0;

  async function worker(store: MatchmakingStore, w: number): Promise<void> {
    const rnd = prng(o.seed + w * 7919);
    const pick = <T>(xs: T[]): T => at(xs, Math.floor(rnd() * xs.length));
    const skill = () => Math.round(1000 + rnd() * 1000);
    const newRequest = (): EnqueueRequest => {
      const r: EnqueueRequest = {
        ticketId: `w${w}-t${++ticketSeq}`,
        playerId: pick(playerIds),
        mode: pick(modes),
        region,
        requestedAtMs: clock.ms - Math.floor(rnd() * 2000),
      };
      if (!o.rules) return r;
      if (r.mode === "ranked" || r.mode === "duo") r.skill = skill();
      const max = maxParty[r.mode] ?? 1;
      if (max > 1 && rnd() < 0.5) {
        // Sometimes one over the limit or with the leader listed again (refused without a write).
        const n = 1 + Math.floor(rnd() * (max + (rnd() < 0.1 ? 1 : 0)));
        r.party = Array.from({ length: Math.min(n, max) - 1 + (n > max - 1 && rnd() < 0.1 ? 1 : 0) }, () => ({
          playerId: rnd() < 0.03 ? r.playerId : pick(playerIds),
          ...(r.mode === "ranked" ? { skill: skill() } : {}),
        }));
        if (!r.party.length) delete r.party;
      }
      return r;
    };
    for (let i = 0; i < o.iterations; i++) {
      clock.advance(Math.floor(rnd() * 150));
      const r = rnd();
      if (r < 0.34) {
        const batch: EnqueueRequest[] = [];
        const n = 1 + Math.floor(rnd() * 8);
        for (let k = 0; k < n; k++) batch.push(sent.length && rnd() < 0.3 ? pick(sent) : newRequest());
        const out = await store.enqueue(batch);
        batch.forEach((b) => sent.push(b));
        for (const x of out.results) count(x.outcome === "rejected" ? `rejected:${x.error}` : x.outcome);
        batch.forEach((b, k) => {
          if (out.results[k]?.outcome === "queued") reached.push(b);
          if (b.party && out.results[k]?.outcome === "queued") count("queued-party");
        });
      } else if (r < 0.54) {
        const batch: LeaveRequest[] = [];
        const tickets: EnqueueRequest[] = [];
        const n = 1 + Math.floor(rnd() * 5);
        for (let k = 0; k < n; k++) {
          // Mostly tickets that were sent; sometimes a ticket whose enqueue has not happened yet (and may follow).
          const t = sent.length && rnd() < 0.85 ? pick(sent) : newRequest();
          if (!sent.includes(t) && rnd() < 0.5) sent.push(t);
          // A party's ticket is left by its leader or by any member (the whole party leaves).
          const who = t.party?.length && rnd() < 0.5 ? pick(t.party).playerId : t.playerId;
          batch.push({ playerId: who, ticketId: t.ticketId, region, reason: pick(["timedOut", "cancelled"] as const) });
          tickets.push(t);
        }
        for (const [k, x] of (await store.leave(batch)).entries()) {
          if (x.outcome === "preempted" && batch[k]?.playerId === tickets[k]?.playerId) reached.push(tickets[k]!);
          count(x.outcome);
          if (x.outcome === "left" && x.partyMembers?.length) count("left-party");
        }
      } else if (r < 0.68) {
        const id = pick(serverIds);
        const port = rnd() < 0.05 ? 9000 : 7000;
        const out = await store.registerServer({ serverId: id, region, address: `10.1.0.${serverIds.indexOf(id)}:${port}` });
        count(out.outcome === "rejected" ? `server-rejected:${out.error}` : out.outcome);
      } else if (r < 0.78) {
        const id = pick(serverIds);
        // Sometimes a stale/duplicated release naming an earlier game.
        const sessionId = sessionsSeen.length && rnd() < 0.3 ? pick(sessionsSeen) : undefined;
        const out = await store.releaseServer({ serverId: id, region, ...(sessionId ? { sessionId } : {}) });
        count(out.outcome);
      } else if (r < 0.8) {
        count(`deregister-${(await store.deregisterServer({ serverId: pick(serverIds), region })).outcome}`);
      } else if (r < 0.93) {
        const out = await store.assign(region, { maxSessions: 1 + Math.floor(rnd() * 5) });
        for (const a of out.assigned) sessionsSeen.push(a.sessionId);
        count("assign-call");
        count("assignments", out.assigned.length);
        if (out.assigned.length && rnd() < 0.5)
          await store.confirmAnnounced(
            region,
            out.assigned.map((a) => a.sessionId),
          );
      } else if (r < 0.97) {
        clock.advance(2000 + Math.floor(rnd() * 4000));
        if (o.rules) {
          const g = await store.regroup(region);
          count("regroup-ready", g.readySessions.length);
          count("regroup-merged", g.mergedSessions.length);
        }
        const out = await store.expireServers(region);
        for (const e of out.expired) count(e.wasAllocated ? "expired-allocated" : "expired-available");
        await store.claimUnannounced(region, { olderThanMs: 3000 });
      } else {
        const out = await store.expireStale(region, { playerMaxAgeMs: 20_000, sessionMaxAgeMs: 30_000 });
        count("stale-players", out.expiredPlayers.length);
      }
    }
  }

  await Promise.all(o.clients.map((c, w) => worker(c, w)));
  return { playerIds, sent, reached, counts };
}

/**
 * Server churn across regions: several clients interleave region-less heartbeats, registrations naming a
 * region (sometimes the wrong one), restarts under new ids at taken addresses, acks, releases and
 * deregistrations without region, player batches, assigns and expiry (clock jumps past leases and claim
 * windows). The caller checks the region invariants and the global server index afterwards.
 */
export async function runServerChurn(o: {
  clients: MatchmakingStore[];
  clock: TestClock;
  seed: number;
  iterations: number;
  regions: string[];
  defaultRegion: string;
}): Promise<{ playerIds: string[]; counts: Record<string, number> }> {
  const { clock, regions } = o;
  const playerIds = Array.from({ length: 60 }, (_, i) => `cp${i}`);
  const serverIds = Array.from({ length: 8 }, (_, i) => `gs${i}`);
  // Fewer addresses than ids: restarts under a new id meet live and lapsed holders.
  const addresses = Array.from({ length: 6 }, (_, i) => `10.2.0.${i}:7000`);
  const addressOf = new Map<string, string>(serverIds.map((id, i) => [id, at(addresses, i % addresses.length)]));
  const sessionsSeen: string[] = [];
  const allocationsSeen: { serverId: string; sessionId: string }[] = [];
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  let ticketSeq = 0;

  async function worker(store: MatchmakingStore, w: number): Promise<void> {
    const rnd = prng(o.seed + w * 104729);
    const pick = <T>(xs: readonly T[]): T => at(xs, Math.floor(rnd() * xs.length));
    for (let i = 0; i < o.iterations; i++) {
      clock.advance(Math.floor(rnd() * 200));
      const r = rnd();
      if (r < 0.3) {
        const id = pick(serverIds);
        const out = await store.registerServer({ serverId: id, address: addressOf.get(id)!, defaultRegion: o.defaultRegion });
        count(out.outcome === "rejected" ? `rejected:${out.error}` : out.outcome);
        if (out.outcome === "heartbeat" && out.confirmedSessionId) count("confirmed");
      } else if (r < 0.38) {
        const id = pick(serverIds);
        const out = await store.registerServer({ serverId: id, address: addressOf.get(id)!, region: pick(regions) });
        count(out.outcome === "rejected" ? `rejected:${out.error}` : out.outcome);
      } else if (r < 0.43) {
        // A restart under another id at some address (the address may belong to a live server).
        const id = pick(serverIds);
        addressOf.set(id, pick(addresses));
        const out = await store.registerServer({ serverId: id, address: addressOf.get(id)!, defaultRegion: o.defaultRegion });
        count(out.outcome === "rejected" ? `rejected:${out.error}` : out.outcome);
      } else if (r < 0.5) {
        const out = await store.ackServer({ serverId: pick(serverIds) });
        count(out.outcome === "confirmed" ? "confirmed" : `ack-${out.outcome}`);
      } else if (r < 0.57) {
        // Half the releases name a server seen allocated (a random id is rarely in a game: a run whose
        // interleaving never hit one left the release path untested, and CI failed on that).
        const game = allocationsSeen.length && rnd() < 0.5 ? pick(allocationsSeen) : undefined;
        const sessionId = game ? (rnd() < 0.5 ? game.sessionId : undefined) : sessionsSeen.length && rnd() < 0.3 ? pick(sessionsSeen) : undefined;
        const out = await store.releaseServer({ serverId: game?.serverId ?? pick(serverIds), ...(sessionId ? { sessionId } : {}) });
        count(out.outcome);
      } else if (r < 0.6) {
        count(`deregister-${(await store.deregisterServer({ serverId: pick(serverIds) })).outcome}`);
      } else if (r < 0.78) {
        const region = pick(regions);
        const batch: EnqueueRequest[] = [];
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          batch.push({ ticketId: `c${w}-t${++ticketSeq}`, playerId: pick(playerIds), mode: pick(["duel", "solo"]), region, requestedAtMs: clock.ms });
        }
        await store.enqueue(batch);
      } else if (r < 0.92) {
        const out = await store.assign(pick(regions), { maxSessions: 1 + Math.floor(rnd() * 3) });
        for (const a of out.assigned) {
          sessionsSeen.push(a.sessionId);
          allocationsSeen.push({ serverId: a.serverId, sessionId: a.sessionId });
        }
        count("assignments", out.assigned.length);
        // Sometimes the game ends at once (its server is surely still allocated, unless another worker's
        // expiry or release came first): the release path runs in every interleaving.
        const first = out.assigned[0];
        if (first && rnd() < 0.3) count((await store.releaseServer({ serverId: first.serverId, sessionId: first.sessionId })).outcome);
      } else {
        clock.advance(1000 + Math.floor(rnd() * 4000));
        const out = await store.expireServers(pick(regions));
        for (const e of out.expired) count(`expired:${e.session ?? "idle"}`);
        await store.expireStale(pick(regions), { playerMaxAgeMs: 20_000, sessionMaxAgeMs: 30_000 });
      }
    }
  }

  await Promise.all(o.clients.map((c, w) => worker(c, w)));
  // Let every lease and claim run out and sweep, so the end state is quiescent and every path closed.
  clock.advance(60_000);
  for (const region of regions) {
    const out = await at(o.clients, 0).expireServers(region);
    for (const e of out.expired) count(`expired:${e.session ?? "idle"}`);
  }
  return { playerIds, counts };
}
