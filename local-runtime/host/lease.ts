/**
 * One local runtime per Redis and key prefix. Two runtimes on the same keys would consume the same Event Hub
 * partitions and drive the same Durable instances (409 batch failures, wrong figures), so a runtime takes a
 * lease first: a Redis key with a time to live, renewed while it runs, released when it stops. A second
 * runtime is refused with a clear message. A lease left by a runtime that died on this machine (its pid is
 * gone) is taken over at once instead of waiting for the time to live.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createClient } from "redis";
import { runLocalScript } from "../scripts";

export const LEASE_TTL_MS = 15_000;
const RENEW_EVERY_MS = 5_000;

export function leaseKey(prefix: string): string {
  return `${prefix}:local-runtime:lease`;
}

export interface LeaseHolder {
  id: string;
  pid: number;
  host: string;
  startedAt: string;
  baseUrl?: string;
}

export class SecondRuntimeError extends Error {
  constructor(
    readonly holder: LeaseHolder,
    redisUrl: string,
    prefix: string,
  ) {
    super(
      `Another local runtime is already running on the same Redis (${redisUrl.replace(/\/\/[^@]*@/, "//***@")}) and key prefix "${prefix}": ` +
        `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${holder.baseUrl ? `, at ${holder.baseUrl}` : ""}.\n` +
        "Two runtimes would consume the same Event Hub partitions and drive the same Durable instances. Stop the other one, " +
        `use it (npm run simulate -- --url ${holder.baseUrl ?? "<its URL>"}), or give this one another REDIS_KEY_PREFIX.`,
    );
    this.name = "SecondRuntimeError";
  }
}

type Client = ReturnType<typeof createClient>;

function parseHolder(raw: string | null): LeaseHolder | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<LeaseHolder>;
    return typeof v.id === "string" && typeof v.pid === "number" && typeof v.host === "string" ? (v as LeaseHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder is a process of this machine that no longer exists. */
function holderIsGone(h: LeaseHolder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export class RuntimeLease {
  private value: string;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    private readonly client: Client,
    private readonly key: string,
    private holder: LeaseHolder,
    private readonly onLost: (why: string) => void,
  ) {
    this.value = JSON.stringify(holder);
  }

  /** Takes the lease or throws SecondRuntimeError. `onLost` is called if the lease is lost while running. */
  static async acquire(redisUrl: string, prefix: string, onLost: (why: string) => void): Promise<RuntimeLease> {
    const client = createClient({ url: redisUrl });
    client.on("error", () => undefined); // renewals report their own failures
    await client.connect();
    const holder: LeaseHolder = { id: randomUUID(), pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const lease = new RuntimeLease(client, leaseKey(prefix), holder, onLost);
    try {
      for (let attempt = 0; ; attempt++) {
        if ((await client.set(lease.key, lease.value, { NX: true, PX: LEASE_TTL_MS })) === "OK") break;
        const raw = await client.get(lease.key);
        const other = parseHolder(raw);
        if (attempt === 0 && raw !== null && (!other || holderIsGone(other))) {
          // Left by a runtime that died here: release it only if it is still that value, then try once more.
          await runLocalScript((c) => client.sendCommand(c), "runtimeLeaseRelease", [lease.key], [raw]);
          continue;
        }
        if (raw === null && attempt < 3) continue; // expired between SET and GET
        throw new SecondRuntimeError(other ?? { id: "?", pid: -1, host: "?", startedAt: "?" }, redisUrl, prefix);
      }
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    lease.timer = setInterval(() => void lease.renew(), RENEW_EVERY_MS);
    lease.timer.unref();
    return lease;
  }

  /** Publishes the runtime's URL in the lease (what findRunningLocalRuntime reports). */
  async publishUrl(baseUrl: string): Promise<void> {
    await this.renew({ ...this.holder, baseUrl });
  }

  private async renew(next?: LeaseHolder): Promise<void> {
    if (this.released) return;
    const nextValue = next ? JSON.stringify(next) : "";
    try {
      const held = await runLocalScript((c) => this.client.sendCommand(c), "runtimeLeaseRenew", [this.key], [this.value, String(LEASE_TTL_MS), nextValue]);
      if (held === 1) {
        if (next) {
          this.holder = next;
          this.value = nextValue;
        }
        return;
      }
      // Expired (a long pause, a flushed Redis): take it again unless another runtime has it now.
      if ((await this.client.set(this.key, this.value, { NX: true, PX: LEASE_TTL_MS })) === "OK") return;
      this.onLost(`the runtime lease ${this.key} is now held by another runtime: ${await this.client.get(this.key)}`);
    } catch (err) {
      // Redis unreachable: the lease may expire; the next renewal tells.
      if (!this.released) this.onLost(`could not renew the runtime lease: ${(err as Error).message}`);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    await runLocalScript((c) => this.client.sendCommand(c), "runtimeLeaseRelease", [this.key], [this.value]).catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }
}

/** The holder of the lease on this Redis and prefix, if a live runtime holds it (short timeouts: a probe). */
export async function readLeaseHolder(redisUrl: string, prefix: string): Promise<LeaseHolder | undefined> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const holder = parseHolder(await client.get(leaseKey(prefix)));
    return holder && !holderIsGone(holder) ? holder : undefined;
  } catch {
    return undefined;
  } finally {
    if (client.isOpen) await client.close().catch(() => undefined);
  }
}
