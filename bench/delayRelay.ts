/**
 * A userspace delay relay: the emulated network link's fallback where the kernel has no netem qdisc
 * (bench/netLink.ts). It listens on one address and forwards every connection to a target (the redis-server
 * across the veth pair), holding every chunk for the one-way delay in each direction, so that each request and
 * each reply pays the delay and every round trip pays it twice.
 *
 * It runs as its own process (forked by `startDelayRelay`), so that its timing does not wait on the bench's
 * event loop, nor the bench's on it. Node's timers have 1 ms granularity, far too coarse for 0.5 ms: a timer
 * thread sleeps in Atomics.wait with a fractional-millisecond timeout (a futex wait, no CPU while asleep) until
 * the earliest held chunk is due, then wakes the relay's event loop with a message, and the relay writes every
 * chunk that is due. The wake-up itself takes tens of microseconds (the kernel's timer slack, the message, the
 * event loop), so the thread aims that much early: the relay tracks the median of its measured wake-up lateness.
 *
 * One queue for all connections, in arrival order: with one delay for all chunks that is also due order, and
 * per connection and direction it keeps byte order. Idle, both threads sleep.
 *
 * This file imports only Node's own modules: the bench forks it compiled (dist/bench/delayRelay.js), and the
 * tests fork it after transpiling this one file.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export interface RelayOptions {
  /** Address the relay listens on (port chosen by the system). */
  listenHost: string;
  targetHost: string;
  targetPort: number;
  /** Held per chunk and direction, ms (0 = forward at once: the relay's own cost alone). */
  oneWayDelayMs: number;
}

/** What the relay did since the last `stats(true)`. */
export interface RelayStats {
  /** Process CPU (both threads, user + system), ms. */
  cpuMs: number;
  wallMs: number;
  chunks: number;
  bytes: number;
  /** Times the timer thread woke the event loop. */
  wakes: number;
  /** Release time minus due time of the most recent held chunks (up to LATENESS_SAMPLES), ms; negative = early. */
  latenessMs: number[];
  /** The wake-up lateness the timer thread currently aims early by, ms. */
  aimEarlyMs: number;
}

export interface DelayRelay {
  host: string;
  port: number;
  pid: number;
  /** Changes the delay for chunks that arrive from now on (held chunks keep theirs; order is kept). */
  setDelay(oneWayDelayMs: number): Promise<void>;
  /** Counters since the relay started or since the last `stats(true)`; `reset` starts a new window. */
  stats(reset?: boolean): Promise<RelayStats>;
  close(): Promise<void>;
}

type RequestBody = { type: "delay"; oneWayDelayMs: number } | { type: "stats"; reset: boolean };
type Request = RequestBody & { id: number };
type Reply = { id: number; type: "ok" } | { id: number; type: "stats"; stats: RelayStats };
type Startup = { type: "listening"; port: number } | { type: "failed"; message: string };

const LATENESS_SAMPLES = 20_000;
/** How the aim-early estimate moves per wake (ms): small steps towards the median wake-up lateness. */
const AIM_STEP_MS = 0.002;
/** The most the timer thread aims early, ms: no chunk leaves more than this before its due time. */
export const MAX_EARLY_MS = 0.25;

/** CLOCK_MONOTONIC in ms: the same clock in every thread of the process (performance.now() is per thread). */
function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** The timer thread: sleeps until the wake time the relay set (shared memory), then wakes the relay once. */
function timerThread(shared: SharedArrayBuffer): void {
  const generation = new Int32Array(shared, 0, 1);
  const wakeAt = new Float64Array(shared, 8, 1);
  for (;;) {
    const g = Atomics.load(generation, 0);
    const at = wakeAt[0]!;
    if (at === Infinity) {
      Atomics.wait(generation, 0, g); // nothing held: sleep until the relay arms a wake time
      continue;
    }
    const left = at - nowMs();
    if (left > 0) {
      Atomics.wait(generation, 0, g, left); // re-read afterwards: the relay may have changed the wake time
      continue;
    }
    parentPort!.postMessage(0);
    Atomics.wait(generation, 0, g); // until the relay has released what was due and set the next wake time
  }
}

interface Direction {
  from: Socket;
  to: Socket;
  paused: boolean;
}

interface Held {
  due: number;
  direction: Direction;
  /** null = the sender's end of stream, forwarded after its data. */
  chunk: Buffer | null;
}

/** The relay process: forwards connections through one delay line. */
function relayProcess(options: RelayOptions): void {
  const shared = new SharedArrayBuffer(16);
  const generation = new Int32Array(shared, 0, 1);
  const wakeAt = new Float64Array(shared, 8, 1);
  wakeAt[0] = Infinity;
  const timer = new Worker(__filename, { workerData: { delayRelayTimer: shared } });
  timer.unref();

  let delayMs = options.oneWayDelayMs;
  let held: Held[] = [];
  let head = 0;
  let lastDue = -Infinity;
  let aimEarlyMs = 0;
  let armedFor = Infinity;
  let armedAt = 0;
  const lateness = new Float64Array(LATENESS_SAMPLES);
  let latenessCount = 0;
  const counters = { chunks: 0, bytes: 0, wakes: 0, cpu: process.cpuUsage(), wallStart: nowMs() };

  const arm = (at: number) => {
    armedFor = at;
    armedAt = nowMs();
    wakeAt[0] = at;
    Atomics.add(generation, 0, 1);
    Atomics.notify(generation, 0);
  };

  const forward = (d: Direction, chunk: Buffer | null) => {
    if (d.to.destroyed) return;
    if (chunk === null) {
      d.to.end();
      return;
    }
    counters.chunks++;
    counters.bytes += chunk.length;
    if (!d.to.write(chunk) && !d.paused) {
      // The receiver is slow: stop reading from the sender until it drains (bounded memory, order unchanged).
      d.paused = true;
      d.from.pause();
      d.to.once("drain", () => {
        d.paused = false;
        d.from.resume();
      });
    }
  };

  const hold = (d: Direction, chunk: Buffer | null) => {
    const now = nowMs();
    if (delayMs <= 0 && head === held.length) {
      forward(d, chunk);
      return;
    }
    // Never before an earlier chunk: after a delay change the due times stay in arrival order.
    const due = Math.max(now + delayMs, lastDue);
    lastDue = due;
    held.push({ due, direction: d, chunk });
    if (held.length - head === 1) arm(due - aimEarlyMs);
  };

  timer.on("message", () => {
    const now = nowMs();
    counters.wakes++;
    // Learn the wake-up lateness from timed sleeps only (not from wakes armed already past due).
    if (armedFor > armedAt) {
      const late = now - armedFor;
      aimEarlyMs = Math.min(MAX_EARLY_MS, Math.max(0, aimEarlyMs + (late > aimEarlyMs ? AIM_STEP_MS : -AIM_STEP_MS)));
    }
    while (head < held.length && held[head]!.due - aimEarlyMs <= now) {
      const h = held[head]!;
      held[head++] = undefined as unknown as Held;
      lateness[latenessCount++ % LATENESS_SAMPLES] = now - h.due;
      forward(h.direction, h.chunk);
    }
    if (head === held.length) {
      // Nothing held: the timer thread is waiting for the next arm anyway, so no need to wake it now.
      held = [];
      head = 0;
      wakeAt[0] = Infinity;
      armedFor = Infinity;
    } else {
      if (head > 1024) {
        held = held.slice(head);
        head = 0;
      }
      arm(held[head]!.due - aimEarlyMs);
    }
  });

  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = createConnection({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true, noDelay: true });
    const up: Direction = { from: client, to: upstream, paused: false };
    const down: Direction = { from: upstream, to: client, paused: false };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (c: Buffer) => hold(up, c));
    client.on("end", () => hold(up, null));
    upstream.on("data", (c: Buffer) => hold(down, c));
    upstream.on("end", () => hold(down, null));
    client.on("error", kill);
    upstream.on("error", kill);
  });

  process.on("message", (m: Request) => {
    if (m.type === "delay") {
      delayMs = m.oneWayDelayMs;
      process.send!({ id: m.id, type: "ok" } satisfies Reply);
      return;
    }
    const n = Math.min(latenessCount, LATENESS_SAMPLES);
    const cpu = process.cpuUsage(counters.cpu);
    const stats: RelayStats = {
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: nowMs() - counters.wallStart,
      chunks: counters.chunks,
      bytes: counters.bytes,
      wakes: counters.wakes,
      latenessMs: Array.from(lateness.subarray(0, n)),
      aimEarlyMs,
    };
    if (m.reset) {
      Object.assign(counters, { chunks: 0, bytes: 0, wakes: 0, cpu: process.cpuUsage(), wallStart: nowMs() });
      latenessCount = 0;
    }
    process.send!({ id: m.id, type: "stats", stats } satisfies Reply);
  });
  // The bench went away (or closed the relay): stop at once, whatever is held.
  process.on("disconnect", () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
  server.on("error", (err) => {
    process.send!({ type: "failed", message: err.message } satisfies Startup);
    process.exit(1);
  });
  server.listen(0, options.listenHost, () => {
    process.send!({ type: "listening", port: (server.address() as AddressInfo).port } satisfies Startup);
  });
}

/** The relay's entry file: this file compiled, or (running from the TypeScript source, as the tests do) this one file transpiled. */
async function entryFile(): Promise<{ file: string; cleanup: () => void }> {
  if (!__filename.endsWith(".ts")) return { file: __filename, cleanup: () => undefined };
  const ts = await import("typescript");
  const js = ts.transpileModule(readFileSync(__filename, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const dir = mkdtempSync(join(tmpdir(), "mm-delay-relay-"));
  const file = join(dir, "delayRelay.js");
  writeFileSync(file, js);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Forks the relay process and waits until it listens. */
export async function startDelayRelay(options: RelayOptions): Promise<DelayRelay> {
  const entry = await entryFile();
  const child: ChildProcess = fork(entry.file, [JSON.stringify(options)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code, signal) => {
    entry.cleanup();
    for (const p of pending.values()) p.reject(new Error(`delay relay exited (${signal ?? code})`));
    pending.clear();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`delay relay exited before listening (${code})`));
    child.once("exit", onExit);
    child.once("message", (m: Startup) => {
      child.off("exit", onExit);
      if (m.type === "listening") resolve(m.port);
      else reject(new Error(`delay relay: ${m.message}`));
    });
  });
  child.on("message", (m: Reply) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    p?.resolve(m);
  });
  const request = (body: RequestBody): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...body, id } satisfies Request);
    });
  return {
    host: options.listenHost,
    port,
    pid: child.pid!,
    async setDelay(oneWayDelayMs: number) {
      await request({ type: "delay", oneWayDelayMs });
    },
    async stats(reset = false) {
      const r = await request({ type: "stats", reset });
      if (r.type !== "stats") throw new Error("delay relay: unexpected reply");
      return r.stats;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect(); // the relay exits on disconnect
      const timeout = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

if (!isMainThread && (workerData as { delayRelayTimer?: SharedArrayBuffer } | null)?.delayRelayTimer) {
  timerThread((workerData as { delayRelayTimer: SharedArrayBuffer }).delayRelayTimer);
} else if (isMainThread && require.main === module) {
  relayProcess(JSON.parse(process.argv[2]!) as RelayOptions);
}
