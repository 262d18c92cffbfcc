import { describe, expect, it } from "vitest";
import { DurableCallCounter, countDurableCalls, durableCallKind, perPlayer } from "../../bench/durableCalls";

describe("Durable calls by kind", () => {
  it("names every client call of the Durable HTTP API, with or without the RPC segment", () => {
    const base = "http://127.0.0.1:7071/runtime/webhooks/durabletask";
    expect(durableCallKind("POST", `${base}/orchestrators/matchRequest/p1?code=k`)).toBe("start");
    expect(durableCallKind("POST", `${base}/rpc-x/orchestrators/matchRequest`)).toBe("start");
    expect(durableCallKind("GET", `${base}/instances/p1?taskHub=h`)).toBe("status");
    expect(durableCallKind("POST", `${base}/instances/p1/raiseEvent/ServerReady`)).toBe("raiseEvent");
    expect(durableCallKind("POST", `${base}/instances/p1/terminate?reason=x`)).toBe("terminate");
    expect(durableCallKind("DELETE", `${base}/instances/p1`)).toBe("purge");
    expect(durableCallKind("GET", `${base}/instances`)).toBe("query");
    expect(durableCallKind("GET", "http://127.0.0.1:7071/api/tickets/p1")).toBeUndefined();
  });

  it("counts calls through the engine's HTTP entry and restores it", async () => {
    const seen: string[] = [];
    const engine = { handleHttp: (req: { method: string; url: string }) => Promise.resolve(seen.push(req.url)) };
    const counter = new DurableCallCounter();
    const undo = countDurableCalls(engine, counter);
    await engine.handleHttp({ method: "GET", url: "/runtime/webhooks/durabletask/instances/a" });
    await engine.handleHttp({ method: "GET", url: "/runtime/webhooks/durabletask/instances/b" });
    await engine.handleHttp({ method: "POST", url: "/runtime/webhooks/durabletask/orchestrators/m/a" });
    expect(counter.take()).toEqual({ start: 1, status: 2 });
    expect(counter.take()).toEqual({});
    undo();
    await engine.handleHttp({ method: "GET", url: "/runtime/webhooks/durabletask/instances/c" });
    expect(counter.take()).toEqual({});
    expect(seen).toHaveLength(4);
    expect(perPlayer({ start: 4, status: 2 }, 4)).toEqual({ start: 1, status: 0.5 });
  });
});
