import { describe, expect, it } from "vitest";
import { checkSchema, openapiDocument } from "../../src/usecases/schemas";

const good = { ticketId: "t1", playerId: "p1", mode: "duel", region: "westeurope", requestedAt: "2026-01-01T00:00:00Z" };

describe("published schemas drive validation", () => {
  it("accepts a valid player request and names the bad field of an invalid one", () => {
    expect(checkSchema("playerRequest", good, "message")).toBeUndefined();
    expect(checkSchema("playerRequest", { ...good, requestedAt: "yesterday" }, "message")?.error).toBe("invalid_requestedAt");
    expect(checkSchema("playerRequest", { ...good, extra: 1 }, "message")?.error).toBe("unknown_field");
    const { playerId: _p, ...noPlayer } = good;
    expect(checkSchema("playerRequest", noPlayer, "message")).toEqual({ error: "missing_field", detail: "playerId is required in message" });
  });

  it("HTTP bodies are checked against the OpenAPI components", () => {
    expect(checkSchema("createTicket", { playerId: "p1" }, "body")).toBeUndefined();
    expect(checkSchema("createTicket", { playerId: "a b" }, "body")?.error).toBe("invalid_playerId");
    expect(checkSchema("createTicket", [], "body")?.error).toBe("invalid_body");
    expect(checkSchema("registerServer", { address: "10.0.0.1:7777", region: "westeurope" }, "body")).toBeUndefined();
    expect(checkSchema("releaseServer", { sessionId: 5 }, "body")?.error).toBe("invalid_sessionId");
    expect(openapiDocument.openapi).toBe("3.1.0");
  });
});
