/**
 * The per-client-address limit through the local runtime's HTTP server: the runtime appends the caller's
 * address to X-Forwarded-For as Azure's front end does (`ip:port`, last entry), so the app limits real client
 * addresses. The callers here are two loopback addresses of this machine (127.0.0.2 and 127.0.0.3: Linux
 * answers on all of 127/8), so the addresses are the sockets' own, not headers a test wrote.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { matchSettings, useApp } from "../e2e/harness";

const app = useApp({ ...matchSettings({ duel: 2 }, ["westeurope"], 30), RATE_LIMIT_TICKETS_PER_ADDRESS: "3", RATE_LIMIT_TICKETS_PER_PLAYER: "100" });

function postFrom(localAddress: string, playerId: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: string } }> {
  const url = new URL("/api/tickets", app().baseUrl);
  const payload = JSON.stringify({ playerId });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as { error?: string }) : {} }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("client addresses through the local runtime", () => {
  it("limits one address, not another; a client-written X-Forwarded-For does not move it to another address", async () => {
    const first: number[] = [];
    for (let i = 0; i < 3; i++) first.push((await postFrom("127.0.0.2", `addr-a-${i}`)).status);
    expect(first).toEqual([202, 202, 202]);
    const over = await postFrom("127.0.0.2", "addr-a-3");
    expect([over.status, over.body.error]).toEqual([429, "rate_limited"]);
    // The forged entry comes first; the runtime's own entry (the socket's address) is last, and that is what counts.
    const forged = await postFrom("127.0.0.2", "addr-a-4", { "x-forwarded-for": "198.51.100.9" });
    expect([forged.status, forged.body.error]).toEqual([429, "rate_limited"]);
    // Another address has its own allowance.
    const other: number[] = [];
    for (let i = 0; i < 3; i++) other.push((await postFrom("127.0.0.3", `addr-b-${i}`)).status);
    expect(other).toEqual([202, 202, 202]);
    expect((await postFrom("127.0.0.3", "addr-b-3")).status).toBe(429);
  });
});
