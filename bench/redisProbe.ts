/**
 * Thin helpers the bench uses to talk to its private redis-server: a client that counts its round trips,
 * INFO parsing, and server-side snapshots (CPU, memory, commands) whose deltas give per-player costs.
 */
import { createClient } from "redis";

export type RawClient = ReturnType<typeof createClient>;

export async function connect(url: string): Promise<RawClient> {
  const client = createClient({ url });
  client.on("error", (err: unknown) => process.stderr.write(`[bench] redis client error: ${String(err)}\n`));
  await client.connect();
  return client;
}

/**
 * A raw-command client that counts what it sends. `call` is awaited by its caller: each is one round trip
 * unless issued in the same tick as others (node-redis writes commands of one tick together, as
 * StackExchange.Redis's multiplexer does). `send` is fire-and-forget (CommandFlags.FireAndForget): it is
 * written to the socket with the next flush and its reply is ignored.
 */
export class CountingClient {
  roundTrips = 0;
  fireAndForget = 0;
  constructor(readonly client: RawClient) {}

  call(args: string[]): Promise<unknown> {
    this.roundTrips++;
    return this.client.sendCommand(args);
  }

  send(args: string[]): void {
    this.fireAndForget++;
    this.client.sendCommand(args).catch((err: unknown) => {
      process.stderr.write(`[bench] fire-and-forget ${args[0]} failed: ${String(err)}\n`);
    });
  }

  get commands(): number {
    return this.roundTrips + this.fireAndForget;
  }
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith("#")) continue;
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface ServerSnapshot {
  /** used_cpu_sys + used_cpu_user, seconds. */
  cpuSeconds: number;
  usedMemory: number;
  totalCommands: number;
}

export async function snapshot(client: RawClient): Promise<ServerSnapshot> {
  const info = parseInfo(String(await client.sendCommand(["INFO", "everything"])));
  return {
    cpuSeconds: Number(info["used_cpu_sys"] ?? 0) + Number(info["used_cpu_user"] ?? 0),
    usedMemory: Number(info["used_memory"] ?? 0),
    totalCommands: Number(info["total_commands_processed"] ?? 0),
  };
}

export interface ServerDelta {
  cpuSeconds: number;
  memoryBytes: number;
  /** Commands the server processed in between, minus the snapshot's own INFO. */
  commands: number;
}

export function delta(a: ServerSnapshot, b: ServerSnapshot): ServerDelta {
  return {
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    memoryBytes: b.usedMemory - a.usedMemory,
    commands: Math.max(0, b.totalCommands - a.totalCommands - 1),
  };
}

/** Empties the bench's own server between scenarios so that one scenario's data cannot slow the next. */
export async function flushAll(client: RawClient): Promise<void> {
  await client.sendCommand(["FLUSHALL", "SYNC"]);
  await client.sendCommand(["MEMORY", "PURGE"]).catch(() => undefined);
}

/**
 * Empties only the database `client` has selected: for a run that may share its server (the tests run the
 * Colyseus peer in database 9 of the suite's redis-server, beside other files' data in database 0).
 */
export async function flushDatabase(client: RawClient): Promise<void> {
  await client.sendCommand(["FLUSHDB", "SYNC"]);
}

/** Writes a one-line progress message to stderr (overwritten in a TTY). */
export function progress(msg: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[bench] ${msg}`);
  else process.stderr.write(`[bench] ${msg}\n`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write("\n");
}
