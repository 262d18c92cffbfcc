/** The pure pieces behind the functions: tokens, message decoding, publisher grouping and connection resolution. */
import { describe, expect, it } from "vitest";
import { at } from "../support/at";
import { signTicketToken, tokenFromRequest, verifyTicketToken } from "../../src/usecases/ticketToken";
import { decodeMessage, messageText, parsePlayerRequest } from "../../src/usecases/messages";
import { forEachLimit } from "../../src/lib/limiter";
import { groupByPartitionKey, MemoryEventPublisher, resolveEventHubConnection } from "../../src/messaging/eventPublisher";
import { cancelApplies, matchFromServerReady, outcomeFromLeave, toMatchMade } from "../../src/domain/matchRequest";
import { checkComponent, checkSchema } from "../../src/usecases/schemas";
import { ticketFromOutcome } from "../../src/domain/ticket";
import { statusUrlWithoutKey } from "../../src/functions/durable/matchRequests";
import type { DurableClient } from "durable-functions";
import { createTicket } from "../../src/usecases/tickets";
import { estimateWaitSeconds } from "../../src/usecases/stats";
import { normalizeModes } from "../../src/domain/modeRules";
import type { MatchRequests, Store } from "../../src/usecases/ports";
import { loadSettings } from "../../src/config/settings";

const KEY = "unit-test-signing-key-0123456789-abcdef";
const KEYS = [{ kid: "2026-12", key: KEY }];
const NOW = 1_700_000_000_000;
const facts = { ticketId: "t1", playerId: "p1", region: "westeurope", mode: "duel", rat: NOW };
const claims = { ...facts, iat: NOW / 1000, exp: NOW / 1000 + 3600, kid: "2026-12" };
const rules = { modes: normalizeModes({ duel: 2 }), regions: ["westeurope"] };

describe("ticket tokens", () => {
  it("round-trips its claims (with kid and exp) and refuses any change", () => {
    const token = signTicketToken(facts, KEYS, 3600, NOW);
    expect(verifyTicketToken(token, KEYS, NOW)).toEqual({ ok: true, claims });
    expect(verifyTicketToken(token, [{ kid: "2026-12", key: `${KEY}x` }], NOW)).toMatchObject({ ok: false, error: "invalid_token" });
    const parts = token.split(".");
    const [p, m] = [at(parts, 0), at(parts, 1)];
    const flipped = `${p}.${m.slice(0, -1)}${m.endsWith("A") ? "B" : "A"}`;
    expect(verifyTicketToken(flipped, KEYS, NOW)).toMatchObject({ ok: false, error: "invalid_token" });
    expect(verifyTicketToken(`${p}.${m}.x`, KEYS, NOW)).toMatchObject({ ok: false, error: "invalid_token" });
    expect(verifyTicketToken(undefined, KEYS, NOW)).toMatchObject({ ok: false, error: "missing_token" });
    expect(verifyTicketToken("a".repeat(5000), KEYS, NOW)).toMatchObject({ ok: false, error: "invalid_token" });
    // A genuine signature over a payload that is not a ticket is still refused.
    const odd = signTicketToken({ ...facts, region: "Bad Region" }, KEYS, 3600, NOW);
    expect(verifyTicketToken(odd, KEYS, NOW)).toMatchObject({ ok: false, detail: "token payload is incomplete" });
  });

  it("reads the bearer header first, then ?token=", () => {
    expect(tokenFromRequest("Bearer abc.def", "q")).toBe("abc.def");
    expect(tokenFromRequest("bearer  abc.def ", null)).toBe("abc.def");
    expect(tokenFromRequest("Basic xyz", "q")).toBe("q");
    expect(tokenFromRequest(null, null)).toBeUndefined();
  });
});

describe("Event Hub message intake", () => {
  const good = { ticketId: "t1", playerId: "p1", mode: "duel", region: "westeurope", requestedAt: "2026-01-01T00:00:00Z" };
  it("accepts objects, JSON strings and bytes alike", () => {
    for (const raw of [good, JSON.stringify(good), Buffer.from(JSON.stringify(good)), new Uint8Array(Buffer.from(JSON.stringify(good)))]) {
      const r = parsePlayerRequest(raw, 0, rules);
      expect(r.ok && r.value).toMatchObject({ ...good, requestedAtMs: Date.parse(good.requestedAt) });
    }
  });
  it("turns bad input into a reason with the original text", () => {
    expect(decodeMessage(Buffer.from("{oops"))).toMatchObject({ ok: false, error: "malformed_json" });
    const text = JSON.stringify({ ...good, ticketId: 1 });
    expect(parsePlayerRequest(Buffer.from(text), 3, rules)).toMatchObject({ ok: false, index: 3, body: text, error: "invalid_ticketId" });
    expect(parsePlayerRequest({ ticketId: "t" }, 0, rules)).toMatchObject({ ok: false, error: "missing_field" });
    expect(parsePlayerRequest({ ...good, mode: "solo" }, 0, rules)).toMatchObject({ ok: false, error: "unknown_mode" });
    expect(messageText("x".repeat(10_000)).length).toBeLessThan(8200);
  });
  it("forEachLimit runs every item even when one fails, then reports the failure", async () => {
    const seen: number[] = [];
    await expect(
      forEachLimit([1, 2, 3, 4], 2, async (n) => {
        seen.push(n);
        if (n === 2) throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
  });
});

describe("event publishing", () => {
  it("groups events by partition key (one batch per key) and resolves both connection styles", async () => {
    const groups = groupByPartitionKey([{ body: 1, partitionKey: "a" }, { body: 2 }, { body: 3, partitionKey: "a" }]);
    expect([...groups.entries()].map(([k, v]) => [k, v.map((e) => e.body)])).toEqual([
      ["a", [1, 3]],
      [undefined, [2]],
    ]);
    expect(resolveEventHubConnection({ EventHubConnection: "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v" }, "EventHubConnection")).toMatchObject({
      kind: "connectionString",
    });
    expect(
      resolveEventHubConnection(
        { EventHubConnection__fullyQualifiedNamespace: "ns.servicebus.windows.net", EventHubConnection__clientId: "cid" },
        "EventHubConnection",
      ),
    ).toEqual({ kind: "identity", fullyQualifiedNamespace: "ns.servicebus.windows.net", clientId: "cid" });
    expect(() => resolveEventHubConnection({}, "EventHubConnection")).toThrow(/EventHubConnection__fullyQualifiedNamespace/);
    const mem = new MemoryEventPublisher();
    mem.failures = 1;
    await expect(mem.send("h", [{ body: 1 }])).rejects.toThrow();
    await mem.send("h", [{ body: 2 }]);
    expect(mem.bodies("h")).toEqual([2]);
  });
});

describe("orchestrator decisions", () => {
  const input = { ticketId: "t1", playerId: "p1", mode: "duel", region: "westeurope", timeoutSeconds: 60 };
  const assignment = {
    sessionId: "westeurope.4",
    serverId: "s",
    address: "h:1",
    players: [{ playerId: "p1", ticketId: "t1" }],
    mode: "duel",
    region: "westeurope",
    assignedAtMs: 1_767_225_600_000,
  };
  it("a match with teams carries teams, the player's team and the quality, on the message, the output and the ticket", () => {
    const teams = [{ players: ["p2", "p3"] }, { players: ["p1", "p4"] }];
    const quality = { skillSpread: 120, teamSkillGap: 15, waitSeconds: 7.5 };
    const ruled = { ...assignment, players: ["p1", "p2", "p3", "p4"].map((p) => ({ playerId: p, ticketId: p === "p1" ? "t1" : "tx" })), teams, quality };
    const made = toMatchMade(ruled);
    expect(checkSchema("matchMade", made, "m")).toBeUndefined();
    expect(made).toMatchObject({ teams, quality });
    const out = matchFromServerReady(input, { ...made, playerId: "p1", ticketId: "t1" });
    expect(out).toMatchObject({ status: "matched", teams, team: 1, quality });
    expect(outcomeFromLeave(input, { outcome: "assigned", playerId: "p1", ticketId: "t1", assignment: ruled }, "timedOut")).toMatchObject({ team: 1, teams });
    expect(ticketFromOutcome("p1", out!)).toMatchObject({ status: "matched", team: 1, teams, quality });
    expect(checkComponent("Ticket", ticketFromOutcome("p1", out!))).toBeUndefined();
    // A plain FIFO match carries none of them: its messages and outputs stay as they were.
    const plain = matchFromServerReady(input, { ...toMatchMade(assignment), playerId: "p1", ticketId: "t1" });
    expect(Object.keys(plain!).sort()).toEqual(["players", "server", "serverId", "sessionId", "status", "ticketId"]);
  });

  it("matches only its own ticket, and the store's answer wins the timeout race", () => {
    const msg = { ...toMatchMade(assignment), playerId: "p1", ticketId: "t1" };
    expect(checkSchema("matchMade", toMatchMade(assignment), "m")).toBeUndefined();
    expect(matchFromServerReady(input, msg)).toMatchObject({ status: "matched", server: "h:1" });
    expect(matchFromServerReady(input, { ...msg, ticketId: "t0" })).toBeUndefined();
    expect(matchFromServerReady(input, null)).toBeUndefined();
    expect(cancelApplies(input, { ticketId: "t0" })).toBe(false);
    expect(cancelApplies(input, undefined)).toBe(true);
    expect(outcomeFromLeave(input, { outcome: "assigned", playerId: "p1", ticketId: "t1", assignment }, "timedOut")).toMatchObject({
      status: "matched",
      sessionId: "westeurope.4",
    });
    expect(outcomeFromLeave(input, { outcome: "alreadyLeft", playerId: "p1", ticketId: "t1", reason: "cancelled" }, "timedOut")).toEqual({
      status: "cancelled",
      ticketId: "t1",
    });
    expect(outcomeFromLeave(input, { outcome: "left", playerId: "p1", ticketId: "t1", reason: "expired" }, "timedOut")).toEqual({
      status: "timedOut",
      ticketId: "t1",
    });
  });
});

describe("Durable status URL for clients", () => {
  it("drops the system key but keeps the task hub and connection", () => {
    const client = {
      createHttpManagementPayload: (id: string) => ({
        statusQueryGetUri: `https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/${id}?taskHub=Matchmaker&connection=Storage&code=SYSTEMKEY==`,
      }),
    } as unknown as DurableClient;
    const url = statusUrlWithoutKey(client, "p1");
    expect(url).toBe("https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/p1?taskHub=Matchmaker&connection=Storage");
    expect(url).not.toContain("SYSTEMKEY");
  });
});

describe("createTicket: Durable calls on the hot path (issue 16)", () => {
  const settingsOf = () => ({
    ...loadSettings({ TICKET_SIGNING_KEY: "k".repeat(32), MATCH_MODES: '{"duel":2}', MATCH_REGIONS: '["westeurope"]' }),
  });
  const ports = (state: "waiting" | "none") => {
    const calls = { status: 0, sent: 0 };
    const store = {
      getPlayer: () =>
        Promise.resolve(
          state === "waiting" ? { playerId: "p1", ticketId: "t-old", mode: "duel", region: "westeurope", state: "waiting", requestedAtMs: 1 } : null,
        ),
    } as unknown as Store;
    const matchRequests: MatchRequests = {
      status: () => {
        calls.status++;
        return Promise.resolve(null);
      },
      start: () => Promise.resolve(true),
      serverReady: () => Promise.resolve(true),
      cancel: () => Promise.resolve(true),
    };
    const publisher = { send: () => Promise.resolve(void calls.sent++), close: () => Promise.resolve() };
    const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
    return { calls, p: { settings: settingsOf(), store, matchRequests, publisher, clock: Date.now, log } };
  };

  it("a player the store knows as waiting is refused (409 ticket_exists) without a Durable status read", async () => {
    const { calls, p } = ports("waiting");
    await expect(createTicket(p, { playerId: "p1" })).rejects.toMatchObject({
      kind: "conflict",
      body: { error: "ticket_exists", ticket: { ticketId: "t-old" } },
    });
    expect(calls).toEqual({ status: 0, sent: 0 });
  });

  it("a player the store does not know costs one status read (the orchestration covers other regions and the hub)", async () => {
    const { calls, p } = ports("none");
    await expect(createTicket(p, { playerId: "p1" })).resolves.toMatchObject({ playerId: "p1", mode: "duel", region: "westeurope" });
    expect(calls).toEqual({ status: 1, sent: 1 });
  });
});

describe("estimated wait of a new ticket (GET /api/stats byMode)", () => {
  const pp = (p50: number) => ({ p50, p95: p50 * 2 });
  it("is the median wait of the recent matches, capped at the timeout; the timeout when nobody is matched; null with nothing to go by", () => {
    expect(estimateWaitSeconds({ recentMatches: 20, waiting: 3, waitSeconds: pp(7.34) }, 60)).toBe(7.3);
    expect(estimateWaitSeconds({ recentMatches: 20, waiting: 0, waitSeconds: pp(90) }, 60)).toBe(60);
    expect(estimateWaitSeconds({ recentMatches: 0, waiting: 5, waitSeconds: pp(0) }, 60)).toBe(60);
    expect(estimateWaitSeconds({ recentMatches: 0, waiting: 0, waitSeconds: pp(0) }, 60)).toBeNull();
  });
});
