/**
 * addPlayers, matchMade and assignSessions invoked through the real invocation code, with the real store
 * on the test redis, the real local Durable engine (orchestrators and the leaveQueue activity really
 * run), and an in-memory publisher whose messages are delivered to the next function by the test.
 */
import { describe, expect, inject, it } from "vitest";
import { core, returned, uniqueId as id, useTestApp } from "./support/app";
import { at } from "../support/at";
import type { MatchMade } from "../../src/domain/types";
import { setClock, setStoreFactory, storeFromSettings } from "../../src/functions/wiring";
import { settings } from "../../src/config/settings";
import { createClient, ErrorReply } from "redis";
import { deliverMatches } from "../../src/usecases/deliverMatches";
import { PermanentFailure, Unavailable } from "../../src/usecases/errors";
import type { MatchRequests } from "../../src/usecases/ports";

const app = useTestApp();
const request = (playerId: string, over: Record<string, unknown> = {}) => ({
  ticketId: id("t"),
  playerId,
  mode: "duel",
  region: "westeurope",
  requestedAt: new Date().toISOString(),
  ...over,
});
const matchMadeBodies = () => app.publisher.bodies("match-made") as MatchMade[];

/** Takes waiting players out again, so that they cannot fill a session another test counts on. */
async function leaveAll(requests: { playerId: string; ticketId: string; region: string }[]): Promise<void> {
  await (await app.store()).leave(requests.map((r) => ({ playerId: r.playerId, ticketId: r.ticketId, region: r.region, reason: "cancelled" as const })));
}

/** Each server its own address: no two live servers share one (the store refuses the second). */
const addresses = new Map<string, string>();
const addressOf = (serverId: string): string => {
  if (!addresses.has(serverId)) addresses.set(serverId, `10.1.2.3:${7000 + addresses.size}`);
  return addresses.get(serverId)!;
};

async function registerServer(serverId: string, region = "westeurope"): Promise<void> {
  const r = await (await app.store()).registerServer({ serverId, region, address: addressOf(serverId) });
  expect(r.outcome).toBe("registered");
}

describe("addPlayers", () => {
  it("dead-letters bad messages with their reason and still processes the rest of the batch", async () => {
    const alice = id("alice");
    const bob = id("bob");
    const server = id("gs");
    await registerServer(server);
    const before = matchMadeBodies().length;
    const episodesBefore = app.engine.metrics().orchestratorEpisodes;
    const activitiesBefore = app.engine.metrics().activityInvocations;
    const good1 = request(alice);
    const good2 = request(bob);
    await app.eventHub("addPlayers", [
      good1,
      "this is not json",
      { playerId: id("x"), mode: "duel" },
      request(id("chess"), { mode: "chess" }),
      request(id("extra"), { color: "red" }),
      good2,
    ]);
    const dead = await (await app.store()).listDeadLetters("player-requests", 20);
    const errors = dead.map((d) => d.error);
    expect(errors).toEqual(expect.arrayContaining(["malformed_json", "missing_field", "unknown_mode", "unknown_field"]));
    expect(dead.find((d) => d.error === "malformed_json")?.body).toBe("this is not json");
    expect(dead.find((d) => d.error === "unknown_mode")?.detail).toContain("chess");

    // The good ones: orchestrators started (instanceId = playerId), queued, their session filled, and
    // assigned at once (no timer tick) to the free server, announced on match-made.
    const sent = matchMadeBodies().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ serverId: server, address: addressOf(server), mode: "duel", region: "westeurope" });
    expect(
      at(sent, 0)
        .players.map((p) => p.playerId)
        .sort(),
    ).toEqual([alice, bob].sort());
    const pa = await (await app.store()).getPlayer("westeurope", alice);
    expect(pa?.state).toBe("matched");
    expect(["Pending", "Running"]).toContain((await app.engine.getStatus(alice))?.runtimeStatus);

    // Deliver the match-made message: both orchestrators complete as matched (through ServerReady).
    await app.eventHub("matchMade", sent);
    const done = await app.waitForStatus(alice, "Completed");
    expect(JSON.parse(done.output!)).toMatchObject({ status: "matched", ticketId: good1.ticketId, serverId: server, server: addressOf(server) });
    const doneBob = await app.waitForStatus(bob, "Completed");
    expect(JSON.parse(doneBob.output!)).toMatchObject({ status: "matched", ticketId: good2.ticketId, sessionId: at(sent, 0).sessionId });
    // A matched player costs at most two orchestrator episodes (start, ServerReady) and no activity.
    expect(app.engine.metrics().orchestratorEpisodes - episodesBefore).toBeLessThanOrEqual(4);
    expect(app.engine.metrics().activityInvocations - activitiesBefore).toBe(0);
  });

  it("a redelivered batch changes nothing: no new orchestrator, no second enqueue, no second announcement", async () => {
    const carol = id("carol");
    const dave = id("dave");
    const lone = id("lone");
    await registerServer(id("gs"));
    const batch = [request(carol), request(dave), request(lone, { mode: "squad" })];
    await app.eventHub("addPlayers", batch);
    const st = await app.store();
    const snapshot = async () => ({
      carol: await st.getPlayer("westeurope", carol),
      dave: await st.getPlayer("westeurope", dave),
      lone: await st.getPlayer("westeurope", lone),
      stats: await st.stats("westeurope"),
    });
    const first = await snapshot();
    expect(first.lone?.state).toBe("waiting");
    expect(first.carol?.state).toBe("matched");
    const announced = matchMadeBodies().length;
    const instances = app.engine.metrics().instances;

    await app.eventHub("addPlayers", batch); // at-least-once delivery: the same events again
    await app.eventHub("addPlayers", [batch[2], batch[2]]); // and a producer retry inside one batch

    expect(app.engine.metrics().instances).toBe(instances);
    expect(matchMadeBodies().length).toBe(announced);
    const again = await snapshot();
    expect(again.carol).toEqual(first.carol);
    expect(again.dave).toEqual(first.dave);
    expect(again.lone).toEqual(first.lone);
    expect(again.stats.waitingPlayers).toBe(first.stats.waitingPlayers);
    await leaveAll([at(batch, 2)]);
  });

  it("a late redelivery after the ticket finished does not restart its orchestrator", async () => {
    const erin = id("erin");
    const frank = id("frank");
    await registerServer(id("gs"));
    const batch = [request(erin), request(frank)];
    await app.eventHub("addPlayers", batch);
    const before = matchMadeBodies().length;
    await app.eventHub("matchMade", matchMadeBodies().slice(-1));
    await app.waitForStatus(erin, "Completed");
    const instances = app.engine.metrics().instances;
    await app.eventHub("addPlayers", batch);
    expect(app.engine.metrics().instances).toBe(instances);
    expect((await app.engine.getStatus(erin))?.runtimeStatus).toBe("Completed");
    expect(matchMadeBodies().length).toBe(before);
  });

  it("refuses (dead-letters) a second live ticket of a player whose orchestrator runs another ticket", async () => {
    const gina = id("gina");
    await app.eventHub("addPlayers", [request(gina, { mode: "squad" })]);
    const other = request(gina, { mode: "squad" });
    await app.eventHub("addPlayers", [other]);
    // And two tickets of one new player in the same batch: the first wins, the second is refused.
    const hugo = id("hugo");
    const [h1, h2] = [request(hugo, { mode: "squad" }), request(hugo, { mode: "squad" })];
    await app.eventHub("addPlayers", [h1, h2]);
    const dead = await (await app.store()).listDeadLetters("player-requests", 50);
    expect(dead.some((d) => d.error === "player_busy" && d.body.includes(other.ticketId))).toBe(true);
    expect(dead.some((d) => d.error === "player_busy" && d.body.includes(h2.ticketId))).toBe(true);
    expect((await (await app.store()).getPlayer("westeurope", hugo))?.ticketId).toBe(h1.ticketId);
    expect((await (await app.store()).getPlayer("westeurope", gina))?.ticketId).not.toBe(other.ticketId);
    const ginaTicket = (await (await app.store()).getPlayer("westeurope", gina))!.ticketId;
    await leaveAll([h1, { playerId: gina, ticketId: ginaTicket, region: "westeurope" }]);
  });

  it("a failing Redis makes the invocation throw (so the retry policy re-runs the batch), and the redelivery then succeeds", async () => {
    // A real Redis that refuses the store's scripts: an ACL user without EVAL/EVALSHA.
    const admin = createClient({ url: inject("redisUrl") });
    await admin.connect();
    const user = `limited${app.prefix}`;
    await admin.sendCommand(["ACL", "SETUSER", user, "on", ">pw-limited", "~*", "+@all", "-eval", "-evalsha", "-fcall"]);
    const url = new URL(inject("redisUrl"));
    url.username = user;
    url.password = "pw-limited";
    setStoreFactory((s) => storeFromSettings({ ...s, redisConnectionString: url.toString() }));
    const hank = id("hank");
    const batch = [request(hank, { mode: "squad" })];
    try {
      await expect(app.eventHub("addPlayers", batch)).rejects.toThrow(/NOPERM|permission/i);
    } finally {
      const limited = (await app.store()) as unknown as { redis: { close(): Promise<void> } };
      await limited.redis.close();
      app.restoreStore();
      await admin.sendCommand(["ACL", "DELUSER", user]);
      await admin.close();
    }
    // The host retries the same batch once Redis is back: the player gets queued exactly once.
    await app.eventHub("addPlayers", batch);
    expect((await (await app.store()).getPlayer("westeurope", hank))?.state).toBe("waiting");
    expect(["Pending", "Running"]).toContain((await app.engine.getStatus(hank))?.runtimeStatus);
    expect(settings().redisKeyPrefix).toBe(app.prefix);
    await leaveAll(batch);
  });
});

describe("a message that fails deterministically is dead-lettered, not retried forever", () => {
  it("addPlayers: a store script that errors on one request dead-letters it; the rest of the batch is queued and the call succeeds", async () => {
    const good1 = request(id("kim"), { mode: "squad" });
    const poison = request(id("poison"), { mode: "squad" });
    const good2 = request(id("lee"), { mode: "squad" });
    // The real store, except that a script errors (as Redis answers a Lua runtime error) whenever the
    // poison request is in the call: the failure of issue 9 ("attempt to compare nil with number").
    setStoreFactory(async (s) => {
      const real = await storeFromSettings(s);
      const enqueue = real.enqueue.bind(real);
      real.enqueue = async (requests) => {
        if (requests.some((r) => r.playerId === poison.playerId))
          throw new ErrorReply("ERR user_script:42: attempt to compare nil with number script: enqueuePlayers");
        return enqueue(requests);
      };
      return real;
    });
    try {
      const result = returned<{ messages: number; queued: number; rejected: number }>(await app.eventHub("addPlayers", [good1, poison, good2]));
      expect(result).toMatchObject({ messages: 3, queued: 2, rejected: 1 });
      const st = await app.store();
      expect((await st.getPlayer("westeurope", good1.playerId))?.state).toBe("waiting");
      expect((await st.getPlayer("westeurope", good2.playerId))?.state).toBe("waiting");
      expect(await st.getPlayer("westeurope", poison.playerId)).toBeNull();
      const dead = (await st.listDeadLetters("player-requests", 50)).find((d) => d.body.includes(poison.playerId));
      expect(dead).toMatchObject({ error: "processing_failed" });
      expect(dead?.detail).toContain("attempt to compare nil with number");
      // Redelivered (the host did not retry, but at-least-once delivery may bring it again): still no throw.
      await expect(app.eventHub("addPlayers", [poison])).resolves.toBeDefined();
    } finally {
      (await app.store()).close().catch(() => undefined);
      app.restoreStore();
    }
    await leaveAll([good1, good2]);
  });

  it("deliverMatches: a Durable refusal (400) for one player dead-letters its message, an unreachable Durable still throws", async () => {
    const logs: string[] = [];
    const log = { log: () => undefined, warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const store = await app.store();
    const raisedFor: string[] = [];
    const refusing = (fail: (playerId: string) => Error | undefined): MatchRequests => ({
      status: () => Promise.resolve(null),
      start: () => Promise.resolve(true),
      cancel: () => Promise.resolve(true),
      serverReady: async (playerId) => {
        const err = fail(playerId);
        if (err) throw err;
        raisedFor.push(playerId);
        return true;
      },
    });
    const msg = (playerId: string): MatchMade => ({
      sessionId: "westeurope.77",
      serverId: "gs-1",
      address: "10.0.0.1:7777",
      players: [{ playerId, ticketId: id("t") }],
      mode: "duel",
      region: "westeurope",
      assignedAt: new Date().toISOString(),
    });
    const bad = id("bad");
    const ok1 = id("ok");
    const ok2 = id("ok");
    const refusal = (playerId: string) =>
      playerId === bad ? new PermanentFailure("the Durable extension", new Error("The operation failed with an unexpected status code: 400")) : undefined;
    const result = await deliverMatches({ store, log, matchRequests: refusing(refusal) }, [msg(ok1), msg(bad), msg(ok2)]);
    expect(result).toEqual({ raised: 2, notRunning: 0, rejected: 1 });
    expect(raisedFor).toEqual(expect.arrayContaining([ok1, ok2]));
    const dead = (await store.listDeadLetters("match-made", 50)).find((d) => d.body.includes(bad));
    expect(dead?.error).toBe("processing_failed");
    expect(dead?.detail).toContain("400");

    const down = () => new Unavailable("the Durable extension", new Error("connect ECONNREFUSED 127.0.0.1:7071"));
    await expect(deliverMatches({ store, log, matchRequests: refusing(down) }, [msg(id("p"))])).rejects.toBeInstanceOf(Unavailable);
  });
});

describe("matchMade", () => {
  it("dead-letters bad messages, tolerates players without a running orchestrator, and is harmless when redelivered", async () => {
    const ivan = id("ivan");
    const judy = id("judy");
    await registerServer(id("gs"));
    const tickets = [request(ivan), request(judy)];
    await app.eventHub("addPlayers", tickets);
    const msg = matchMadeBodies().find((m) => m.players.some((p) => p.playerId === ivan))!;
    expect(msg.players.map((p) => p.playerId).sort()).toEqual([ivan, judy].sort());
    const ghost: MatchMade = { ...msg, sessionId: "westeurope.999999", players: [{ playerId: id("ghost"), ticketId: id("t") }] };
    const bad = { ...msg, address: 42 };
    const result = returned<{ raised: number; notRunning: number; rejected: number }>(await app.eventHub("matchMade", [msg, "{broken", bad, ghost, msg]));
    expect(result.rejected).toBe(2);
    expect(result.notRunning).toBe(1); // the ghost: 404 is fine and does not fail the batch
    const dead = await (await app.store()).listDeadLetters("match-made", 10);
    expect(dead.map((d) => d.error)).toEqual(expect.arrayContaining(["malformed_json", "invalid_address"]));
    const done = await app.waitForStatus(ivan, "Completed");
    expect(JSON.parse(done.output!)).toMatchObject({ status: "matched", ticketId: at(tickets, 0).ticketId });
    // Redelivered after completion: the extension answers 410, which is fine.
    await app.eventHub("matchMade", [msg]);
    expect(JSON.parse((await app.engine.getStatus(ivan))!.output!)).toEqual(JSON.parse(done.output!));
  });
});

describe("assignSessions (the sweeper)", () => {
  it("signals scale-out with counts when sessions wait without a server, then assigns once one registers", async () => {
    const region = "eastus";
    const a = id("a");
    const b = id("b");
    await app.eventHub("addPlayers", [request(a, { region }), request(b, { region })]);
    app.logs.length = 0;
    await app.timer("assignSessions");
    // The metric itself (matchmaker.sessions.waiting_for_server) is asserted in test/telemetry/scaleOut.test.ts.
    const scale = app.logs.filter((l) => l.message.startsWith(`scale-out: 1 full session(s) in ${region} wait for a game server`));
    expect(scale.map((l) => l.level)).toEqual(["warning"]);

    await registerServer(id("gs-east"), region);
    const before = matchMadeBodies().length;
    await app.timer("assignSessions");
    const sent = matchMadeBodies().slice(before);
    expect(sent).toHaveLength(1);
    expect(
      at(sent, 0)
        .players.map((p) => p.playerId)
        .sort(),
    ).toEqual([a, b].sort());
  });

  it("a failed match-made send loses nothing: the session stays in the outbox and a later tick re-publishes it", async () => {
    const region = "eastus";
    const c = id("c");
    const d = id("d");
    const server = id("gs-east");
    await registerServer(server, region);
    await app.eventHub("addPlayers", [request(c, { region, mode: "duel" })]);
    const before = matchMadeBodies().length;
    app.publisher.failures = 1; // the next send fails (Event Hubs down)
    await app.eventHub("addPlayers", [request(d, { region, mode: "duel" })]); // fills the session, assigns, send fails
    expect(matchMadeBodies().length).toBe(before);
    expect((await (await app.store()).getPlayer(region, c))?.state).toBe("matched");
    const stats = await (await app.store()).stats(region);
    expect(stats.sessionsAnnouncing).toBeGreaterThanOrEqual(1);

    app.advanceStoreClock(20_000); // past the outbox grace period
    // The game server keeps heartbeating meanwhile (otherwise its lease would run out and the session requeue).
    expect((await (await app.store()).registerServer({ serverId: server, region, address: addressOf(server) })).outcome).toBe("heartbeat");
    await app.timer("assignSessions");
    const sent = matchMadeBodies().slice(before);
    expect(sent).toHaveLength(1);
    expect(
      at(sent, 0)
        .players.map((p) => p.playerId)
        .sort(),
    ).toEqual([c, d].sort());
    // Confirmed: the next tick does not publish it again.
    await app.timer("assignSessions");
    expect(matchMadeBodies().slice(before)).toHaveLength(1);
    expect(core.get("assignSessions").trigger.type).toBe("timerTrigger");
  });
});

describe("purgeInstances (timer)", () => {
  it("purges finished orchestrations older than the ticket retention and leaves running ones alone", async () => {
    const done = request(id("finished"));
    const live = request(id("live"), { mode: "squad" });
    await app.eventHub("addPlayers", [done, live]);
    await (await app.store()).leave([{ playerId: done.playerId, ticketId: done.ticketId, region: "westeurope", reason: "cancelled" }]);
    const client = app.engine;
    expect((await client.getStatus(done.playerId))?.runtimeStatus).toMatch(/Pending|Running/);
    // The player's orchestration completes (cancelled), as DELETE /api/tickets would make it.
    await app.engine.raiseEvent(done.playerId, "Cancel", JSON.stringify({ ticketId: done.ticketId }));
    await app.waitForStatus(done.playerId, "Completed");

    // Within the retention nothing is purged.
    expect(returned<{ purged: number }>(await app.timer("purgeInstances")).purged).toBe(0);
    expect(await client.getStatus(done.playerId)).toBeTruthy();
    setClock(() => Date.now() + (settings().ticketRetentionSeconds + 60) * 1000);
    try {
      expect(returned<{ purged: number }>(await app.timer("purgeInstances")).purged).toBeGreaterThanOrEqual(1);
    } finally {
      setClock(undefined);
    }
    expect(await client.getStatus(done.playerId)).toBeFalsy();
    expect((await client.getStatus(live.playerId))?.runtimeStatus).toMatch(/Pending|Running/);
    await leaveAll([live]);
  });
});
