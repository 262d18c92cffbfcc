/**
 * Durable calls of the intake (issue 16), counted on the real local Durable engine's HTTP entry, which every
 * durable-functions client call passes through: the start is the existence check, the store answers for
 * tickets it already holds, and only a refused start reads the status.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { uniqueId as id, useTestApp } from "./support/app";
import { countDurableCalls, DurableCallCounter } from "../../bench/durableCalls";
import type { MatchMade } from "../../src/domain/types";

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
const counter = new DurableCallCounter();
let undo: () => void = () => undefined;
beforeEach(() => {
  undo = countDurableCalls(app.engine, counter);
  counter.take();
});
afterEach(() => undo());

async function registerServer(serverId: string, address: string): Promise<void> {
  expect((await (await app.store()).registerServer({ serverId, region: "westeurope", address })).outcome).toBe("registered");
}

describe("Durable calls of addPlayers and matchMade", () => {
  it("a new ticket costs one start and no status read; a matched one one raiseEvent; a redelivery of both costs none", async () => {
    await registerServer(id("gs"), "10.9.0.1:7000");
    const [a, b] = [request(id("a")), request(id("b"))];
    await app.eventHub("addPlayers", [a, b]);
    expect(counter.take()).toEqual({ start: 2 });
    const match = matchMadeBodies().find((m) => m.players.some((pl) => pl.playerId === a.playerId));
    expect(match).toBeDefined();
    await app.eventHub("matchMade", [match]);
    expect(counter.take()).toEqual({ raiseEvent: 2 });
    await app.waitForStatus(a.playerId, "Completed");

    // At-least-once delivery: the store holds both tickets (matched), so neither a start nor a status read.
    const instances = app.engine.metrics().instances;
    await app.eventHub("addPlayers", [a, b]);
    expect(counter.take()).toEqual({});
    expect(app.engine.metrics().instances).toBe(instances);
    expect((await app.engine.getStatus(a.playerId))?.runtimeStatus).toBe("Completed");

    // A waiting ticket redelivered: the store answers too.
    const lone = request(id("lone"), { mode: "squad" });
    await app.eventHub("addPlayers", [lone]);
    expect(counter.take()).toEqual({ start: 1 });
    await app.eventHub("addPlayers", [lone]);
    expect(counter.take()).toEqual({});
    expect((await (await app.store()).getPlayer("westeurope", lone.playerId))?.state).toBe("waiting");
    await (await app.store()).leave([{ playerId: lone.playerId, ticketId: lone.ticketId, region: "westeurope", reason: "cancelled" }]);
  });

  it("a start the extension refuses (another ticket runs) costs one status read and dead-letters the request as player_busy", async () => {
    const gina = id("gina");
    const first = request(gina, { mode: "squad" });
    await app.eventHub("addPlayers", [first]);
    counter.take();
    const second = request(gina, { mode: "squad" });
    await app.eventHub("addPlayers", [second]);
    expect(counter.take()).toEqual({ start: 1, status: 1 });
    const dead = await (await app.store()).listDeadLetters("player-requests", 50);
    expect(dead.some((d) => d.error === "player_busy" && d.body.includes(second.ticketId))).toBe(true);
    expect((await (await app.store()).getPlayer("westeurope", gina))?.ticketId).toBe(first.ticketId);
    await (await app.store()).leave([{ playerId: gina, ticketId: first.ticketId, region: "westeurope", reason: "cancelled" }]);
  });

  it("a redelivery after the orchestrator started but before the enqueue (a crash between them) is enqueued, not refused", async () => {
    const hal = request(id("hal"), { mode: "squad" });
    const input = { ...hal, timeoutSeconds: 60 };
    expect((await app.engine.startNew("matchRequest", { instanceId: hal.playerId, input: JSON.stringify(input) })).status).toBe("started");
    await app.waitForStatus(hal.playerId, "Running");
    counter.take();
    await app.eventHub("addPlayers", [hal]);
    expect(counter.take()).toEqual({ start: 1, status: 1 });
    const view = await (await app.store()).getPlayer("westeurope", hal.playerId);
    expect(view).toMatchObject({ ticketId: hal.ticketId, state: "waiting" });
    await (await app.store()).leave([{ playerId: hal.playerId, ticketId: hal.ticketId, region: "westeurope", reason: "cancelled" }]);
  });
});
