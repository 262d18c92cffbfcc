/**
 * Tickets with `latencies` (issue 14) through the HTTP API and the player-requests Event Hub, with the real
 * store and Durable engine: bad latencies are a 400 `{error, detail}` (HTTP) or a dead letter with the reason
 * (Event Hub) that costs the rest of the batch nothing; without `region` the home is the region of lowest
 * latency; a ticket with neither gets the default region.
 */
import { describe, expect, it } from "vitest";
import { deliverPlayerRequests, uniqueId as id, useTestApp } from "./support/app";
import { checkSchema } from "../../src/usecases/schemas";
import type { PlayerRequest } from "../../src/domain/types";

const app = useTestApp({
  MATCH_MODES: JSON.stringify({ duel: 2, geo: { teamSize: 2, latency: { max: 80, widen: [{ afterSeconds: 20, max: 150 }] } } }),
  MATCH_REGIONS: JSON.stringify(["eastus", { zone: "eu", regions: ["westeurope", "northeurope"] }]),
  DEFAULT_REGION: "eastus",
});
const JSON_HEADERS = { "content-type": "application/json" };
const postTicket = (body: Record<string, unknown>) =>
  app.http("tickets", { method: "POST", path: "/api/tickets", headers: JSON_HEADERS, body: JSON.stringify(body) });
const published = () => app.publisher.bodies("player-requests") as PlayerRequest[];

describe("tickets with latencies", () => {
  it.each([
    ["not an object", [30], "invalid_latencies", /latencies must be object/],
    ["empty", {}, "invalid_latencies", /latencies must NOT have fewer than 1/],
    ["a region not served", { westeurope: 20, uksouth: 5 }, "invalid_latencies", /"uksouth", which is not a region served here/],
    ["a negative latency", { westeurope: -1 }, "invalid_latencies", /latencies.westeurope must be >= 0/],
    ["a latency as text", { westeurope: "20" }, "invalid_latencies", /./],
    ["'constructor' as a region", { constructor: 20 }, "invalid_latencies", /not a region served here/],
  ])("refuses %s with 400 {error, detail}", async (_name, latencies, error, detail) => {
    const res = await postTicket({ playerId: id("bad"), mode: "geo", latencies });
    expect(res.status, res.body.toString()).toBe(400);
    const body = res.json as { error: string; detail: string };
    expect(body.error).toBe(error);
    expect(body.detail).toMatch(detail);
  });

  it("in a latency mode, refuses latencies that name no region the ticket can be matched in (its home region's zone)", async () => {
    const res = await postTicket({ playerId: id("far"), mode: "geo", region: "eastus", latencies: { westeurope: 20 } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "latency_region_mismatch" });
    expect((res.json as { detail: string }).detail).toContain("region eastus");
  });

  it("without region the home is the served region of lowest latency; with neither, the default region", async () => {
    const near = await postTicket({ playerId: id("near"), mode: "geo", latencies: { westeurope: 40, northeurope: 25, eastus: 90 } });
    expect(near.status, near.body.toString()).toBe(202);
    expect((near.json as { region: string }).region).toBe("northeurope");
    const message = published().at(-1)!;
    expect(message).toMatchObject({ region: "northeurope", latencies: { westeurope: 40, northeurope: 25, eastus: 90 } });
    expect(checkSchema("playerRequest", message, "the player request")).toBeUndefined();
    const plain = await postTicket({ playerId: id("plain"), mode: "duel" });
    expect((plain.json as { region: string }).region).toBe("eastus");
    expect(published().at(-1)).not.toHaveProperty("latencies");
    // Fractions are rounded to whole ms.
    const fraction = await postTicket({ playerId: id("frac"), mode: "duel", region: "westeurope", latencies: { westeurope: 12.6 } });
    expect(fraction.status).toBe(202);
    expect(published().at(-1)?.latencies).toEqual({ westeurope: 13 });
    await deliverPlayerRequests(app);
  });

  it("an Event Hub message with bad latencies is dead-lettered with the reason; the rest of its batch is queued", async () => {
    const good = { ticketId: id("t"), playerId: id("ok"), mode: "duel", region: "eastus", requestedAt: new Date().toISOString(), latencies: { eastus: 30 } };
    const bad = [
      { ...good, ticketId: id("t"), playerId: id("neg"), latencies: { eastus: -5 } },
      { ...good, ticketId: id("t"), playerId: id("unserved"), latencies: { uksouth: 5 } },
      { ...good, ticketId: id("t"), playerId: id("zone"), mode: "geo", latencies: { westeurope: 5 } },
    ];
    await app.eventHub("addPlayers", [bad[0], good, bad[1], bad[2]]);
    const dead = await (await app.store()).listDeadLetters("player-requests", 50);
    const reasons = bad.map((b) => dead.find((d) => d.body.includes(b.playerId)));
    expect(reasons.map((r) => r?.error)).toEqual(["invalid_latencies", "invalid_latencies", "latency_region_mismatch"]);
    for (const r of reasons) expect(r?.detail.length).toBeGreaterThan(10);
    const record = await (await app.store()).getPlayer("eastus", good.playerId);
    expect(record).toMatchObject({ ticketId: good.ticketId, state: "waiting" });
  });
});
