/**
 * Abuse limits through the real HTTP path: a burst over a player's or an address's limit gets 429 with
 * Retry-After and {error, detail} while the requests within the limit are served, and other players and
 * addresses are unaffected. (Limits here: 3 per player, 5 per address, per 60 s.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { uniqueId as id, useTestApp } from "../functions/support/app";

beforeAll(() => {
  Object.assign(process.env, { RATE_LIMIT_TICKETS_PER_PLAYER: "3", RATE_LIMIT_TICKETS_PER_ADDRESS: "5", RATE_LIMIT_WINDOW_SECONDS: "60" });
});
const app = useTestApp();

const post = (playerId: string, address: string) =>
  app.http("tickets", {
    method: "POST",
    path: "/api/tickets",
    // As Azure's front end adds it; an earlier, client-supplied entry is ignored.
    headers: { "content-type": "application/json", "x-forwarded-for": `10.66.66.66, ${address}:50123` },
    body: JSON.stringify({ playerId }),
  });

describe("rate limits", () => {
  it("a player's burst over its limit gets 429s, the rest is served, and another player is unaffected", async () => {
    const greedy = id("greedy");
    const results = await Promise.all(Array.from({ length: 8 }, () => post(greedy, "198.51.100.1")));
    const statuses = results.map((r) => r.status).sort();
    // 3 served (202, or 409 ticket_exists once one of them is live: concurrent creates of one player may
    // each pass the live-ticket check, see the README's known limits), 5 refused.
    expect(statuses.filter((s) => s === 202 || s === 409)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.json).toMatchObject({ error: "rate_limited", detail: expect.stringMatching(/at most 3 tickets per 60 s/) });
      expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers["retry-after"])).toBeLessThanOrEqual(60);
    }
    expect((await post(id("patient"), "198.51.100.2")).status).toBe(202);
    // Cancelling counts too: the greedy player's DELETE is refused as well.
    const created = results.find((r) => r.status === 202)!.json as { token: string };
    const del = await app.http("ticket", {
      method: "DELETE",
      path: `/api/tickets/${greedy}`,
      params: { playerId: greedy },
      headers: { authorization: `Bearer ${created.token}`, "x-forwarded-for": "198.51.100.1" },
    });
    expect([del.status, (del.json as { error: string }).error]).toEqual([429, "rate_limited"]);
  });

  it("one address creating tickets for many players is limited; other addresses are not", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await post(id(`bot${i}`), "203.0.113.50")).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect((await post(id("human"), "203.0.113.51")).status).toBe(202);
    expect((await post(id("v6"), "[2001:db8::7]")).status).toBe(202);
  });
});
