/**
 * End to end through HTTP: too few servers. The players that get no server time out cleanly, their
 * slots are freed, and a server released later takes the next ready session.
 */
import { beforeAll, expect, it } from "vitest";
import { api, matchSettings, until, useApp, type Api } from "./harness";
import { STATS_CACHE_MS } from "../../src/usecases/stats";

const REGION = "westeurope";
const app = useApp({ ...matchSettings({ duel: 2 }, [REGION], 5), ASSIGN_SCHEDULE: "*/1 * * * * *" });
let http: Api;
let key: Record<string, string>;

beforeAll(() => {
  http = api(app());
  key = { "x-functions-key": app().keys.functionKeys[0]! };
});

interface Ticket {
  playerId: string;
  ticketId: string;
  token: string;
  statusQueryGetUri: string;
}

async function ticket(playerId: string): Promise<Ticket> {
  const r = await http.call("POST", "/api/tickets", { playerId, mode: "duel", region: REGION });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json as Ticket;
}

/** Polls the Durable status endpoint until the instance completes; returns its output. */
async function outcome(t: Ticket): Promise<{ status: string; serverId?: string; sessionId?: string; players?: { playerId: string }[] }> {
  let out: any;
  await until(
    async () => {
      const r = await http.call("GET", t.statusQueryGetUri);
      if (r.status === 200) {
        expect(r.json.runtimeStatus, JSON.stringify(r.json.output)).toBe("Completed");
        out = r.json.output;
      }
      // 404 until addPlayers has started the instance (the request is still in the hub), then 202.
      else expect([202, 404]).toContain(r.status);
      return r.status === 200;
    },
    `${t.playerId} to finish`,
    30_000,
    200,
  );
  return out;
}

/** GET /api/stats; `fresh`: first waits out its per-instance cache (STATS_CACHE_MS), so the answer shows what happened before the call. */
async function stats(o: { fresh?: boolean } = {}) {
  if (o.fresh) await new Promise((r) => setTimeout(r, STATS_CACHE_MS + 50));
  const r = await http.call("GET", `/api/stats?region=${REGION}`);
  expect(r.status).toBe(200);
  return r.json.regions[0] as { waitingPlayers: number; sessionsOpen: number; sessionsReady: number; serversAvailable: number; serversAllocated: number };
}

it("with too few servers the rest time out and free their slots; a released server takes the next ready session", async () => {
  for (const s of ["s1", "s2"]) {
    const r = await http.call("PUT", `/api/servers/${s}`, { address: `127.0.0.1:${s === "s1" ? 7001 : 7002}`, region: REGION }, key);
    expect(r.status).toBeLessThan(300);
  }
  const tickets = await Promise.all(Array.from({ length: 12 }, (_, i) => ticket(`scarce${i}`)));
  const outcomes = await Promise.all(tickets.map(outcome));

  const matched = outcomes.filter((o) => o.status === "matched");
  const timedOut = outcomes.filter((o) => o.status === "timedOut");
  expect(matched).toHaveLength(4);
  expect(timedOut).toHaveLength(8);
  expect(new Set(matched.map((m) => m.serverId))).toEqual(new Set(["s1", "s2"]));
  expect(new Set(matched.map((m) => m.sessionId)).size).toBe(2);

  // The timed-out players are gone from the queue and from every session; their tickets say so.
  const after = await stats({ fresh: true });
  expect(after.waitingPlayers).toBe(0);
  expect(after.sessionsOpen).toBe(0);
  expect(after.sessionsReady).toBe(0);
  expect(after.serversAllocated).toBe(2);
  for (const [i, o] of outcomes.entries()) {
    if (o.status !== "timedOut") continue;
    const t = tickets[i]!;
    const r = await http.call("GET", `/api/tickets/${t.playerId}`, undefined, { authorization: `Bearer ${t.token}` });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("timedOut");
  }

  // Two more players make a ready session that waits for a server...
  const late = await Promise.all([ticket("late1"), ticket("late2")]);
  await until(async () => (await stats()).sessionsReady === 1, "a ready session waiting for a server", 10_000, 100);
  const s1Session = matched.find((m) => m.serverId === "s1")!.sessionId!;
  const rel = await http.call("POST", `/api/servers/s1/release?region=${REGION}`, { sessionId: s1Session }, key);
  expect(rel.status).toBeLessThan(300);
  // ...and the released server takes it.
  const lateOutcomes = await Promise.all(late.map(outcome));
  for (const o of lateOutcomes) {
    expect(o.status).toBe("matched");
    expect(o.serverId).toBe("s1");
  }
  expect(lateOutcomes[0]!.sessionId).toBe(lateOutcomes[1]!.sessionId);
  const final = await stats({ fresh: true });
  expect(final.sessionsReady).toBe(0);
  expect(final.waitingPlayers).toBe(0);
}, 55_000);
