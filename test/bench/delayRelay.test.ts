/**
 * The delay relay (bench/delayRelay.ts), the emulated link's delay where the kernel has no netem qdisc. Here over
 * loopback, in front of TCP servers in this process, so that one clock times both directions. Timing is judged
 * on medians over many round trips with a firm lower bound (a chunk never leaves more than MAX_EARLY_MS before
 * it is due) and a generous upper one (the machine is shared); CPU is judged as CPU time, not speed.
 */
import { randomBytes } from "node:crypto";
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { percentile } from "../../src/lib/percentile";
import { MAX_EARLY_MS, startDelayRelay, type DelayRelay } from "../../bench/delayRelay";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function relayTo(port: number, oneWayDelayMs: number): Promise<DelayRelay> {
  const relay = await startDelayRelay({ listenHost: "127.0.0.1", targetHost: "127.0.0.1", targetPort: port, oneWayDelayMs });
  cleanup.push(() => relay.close());
  return relay;
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port, noDelay: true, allowHalfOpen: true }, () => resolve(s));
    s.once("error", reject);
    cleanup.push(async () => void s.destroy());
  });
}

describe("delay relay", () => {
  it("holds every chunk for the delay in each direction, and a new delay applies to what arrives next", async () => {
    let arrivedAt = 0;
    const server = createServer({ noDelay: true }, (s) =>
      s.on("data", () => {
        arrivedAt = performance.now();
        s.write("y");
      }),
    );
    const relay = await relayTo(await listen(server), 1);
    const client = await connectTo(relay.port);
    const roundTrips = async (n: number) => {
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < n; i++) {
        const sent = performance.now();
        const back = new Promise<number>((resolve) => client.once("data", () => resolve(performance.now())));
        client.write("x");
        const received = await back;
        up.push(arrivedAt - sent);
        down.push(received - arrivedAt);
      }
      return { up: percentile(up, 50), down: percentile(down, 50) };
    };
    const at1 = await roundTrips(150);
    expect(at1.up).toBeGreaterThanOrEqual(1 - MAX_EARLY_MS);
    expect(at1.down).toBeGreaterThanOrEqual(1 - MAX_EARLY_MS);
    expect(at1.up).toBeLessThan(1 + 10);
    expect(at1.down).toBeLessThan(1 + 10);
    await relay.setDelay(3);
    const at3 = await roundTrips(60);
    expect(at3.up).toBeGreaterThanOrEqual(3 - MAX_EARLY_MS);
    expect(at3.down).toBeGreaterThanOrEqual(3 - MAX_EARLY_MS);
    expect(at3.up).toBeLessThan(3 + 10);
    const stats = await relay.stats();
    expect(stats.chunks).toBe(2 * (150 + 60));
    expect(stats.latenessMs).toHaveLength(2 * (150 + 60)); // every chunk was held, none forwarded at once
    expect(Math.min(...stats.latenessMs)).toBeGreaterThanOrEqual(-MAX_EARLY_MS);
  });

  it("keeps byte order per connection, large payloads and the end of stream, across connections at once", async () => {
    // An echo server that ends its side when the client has ended its own.
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      s.on("data", (c: Buffer) => s.write(c));
      s.on("end", () => s.end());
    });
    const relay = await relayTo(await listen(server), 0.5);
    const payloads = Array.from({ length: 4 }, () => randomBytes(3 * 1024 * 1024 + 17));
    const echoes = await Promise.all(
      payloads.map(async (payload) => {
        const s = await connectTo(relay.port);
        const chunks: Buffer[] = [];
        s.on("data", (c: Buffer) => chunks.push(c));
        const ended = new Promise<void>((resolve) => s.once("end", () => resolve()));
        // Uneven writes, interleaved with the other connections' on the relay's one queue.
        for (let off = 0, i = 0; off < payload.length; i++) {
          const size = 1 + ((i * 7919) % 100_000);
          s.write(payload.subarray(off, off + size));
          off += size;
        }
        s.end();
        await ended;
        return Buffer.concat(chunks);
      }),
    );
    for (const [i, payload] of payloads.entries()) {
      expect(echoes[i]!.length).toBe(payload.length);
      expect(echoes[i]!.equals(payload)).toBe(true);
    }
  });

  it("uses next to no CPU while idle, and close() leaves no process and no listener behind", async () => {
    const server = createServer((s) => s.on("data", (c: Buffer) => s.write(c)));
    const relay = await relayTo(await listen(server), 0.5);
    const client = await connectTo(relay.port); // an open, idle connection
    await relay.stats(true);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await relay.stats(true);
    // A relay that polled its timer would burn most of that second; sleeping, it uses well under 5% of it.
    expect(idle.wallMs).toBeGreaterThanOrEqual(900);
    expect(idle.cpuMs).toBeLessThan(50);
    expect(idle.wakes).toBe(0);
    client.destroy();

    const { pid, port } = relay;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await relay.close();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    const refused = await new Promise<string>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port }, () => resolve("connected"));
      s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
