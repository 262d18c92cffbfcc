/**
 * Where the in-process Event Hubs keep their events: one Redis stream per hub partition,
 * `<prefix>:eh:{<hub>:<partition>}` (the hash tag keeps a partition's keys in one slot), its sequence counter,
 * and each consumer's checkpoint beside it, so `npm start` resumes where it stopped.
 */
import { createClient } from "redis";
import { runLocalScript } from "../../scripts";
import type { OutgoingEvent } from "./publisher";

/** One event as stored. */
export interface StoredEvent {
  id: string;
  seq: number;
  body: string;
  partitionKey: string | null;
  properties: Record<string, string>;
  enqueuedMs: number;
}

type RedisClient = ReturnType<typeof createClient>;

export class EventStreams {
  private client: RedisClient | undefined;
  /** The last checkpoint stored per checkpoint key, to trim streams without reading them back. */
  private readonly checkpoints = new Map<string, string>();

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly log?: (msg: string) => void,
  ) {}

  streamKey(hub: string, p: number): string {
    return `${this.prefix}:eh:{${hub}:${p}}`;
  }

  checkpointKey(hub: string, p: number, fn: string): string {
    return `${this.streamKey(hub, p)}:ckpt:${fn}`;
  }

  async connect(): Promise<void> {
    if (this.client) return;
    const client = createClient({ url: this.redisUrl });
    client.on("error", (err: Error) => this.log?.(`event hubs redis: ${err.message}`));
    await client.connect();
    this.client = client;
  }

  async close(): Promise<void> {
    await this.client?.quit().catch(() => undefined);
    this.client = undefined;
  }

  private redis(): RedisClient {
    if (!this.client) throw new Error("LocalEventHubs is not connected");
    return this.client;
  }

  /** Appends to one partition in one script call (each event gets the partition's next sequence number). */
  async append(hub: string, p: number, events: OutgoingEvent[], enqueuedMs: number): Promise<void> {
    const args: string[] = [];
    for (const e of events) {
      const body = typeof e.body === "string" ? e.body : Buffer.isBuffer(e.body) ? e.body.toString("utf8") : JSON.stringify(e.body);
      args.push(body, e.partitionKey ?? "", JSON.stringify(e.properties ?? {}), String(enqueuedMs));
    }
    const keys = [this.streamKey(hub, p), `${this.streamKey(hub, p)}:seq`];
    await runLocalScript((cmd) => this.redis().sendCommand(cmd), "eventHubsAppend", keys, args);
  }

  /** Up to `count` events after the stream id `after` ("0" = from the start). */
  async read(hub: string, p: number, after: string, count: number): Promise<StoredEvent[]> {
    const raw = (await this.redis().sendCommand(["XRANGE", this.streamKey(hub, p), after === "0" ? "-" : `(${after}`, "+", "COUNT", String(count)])) as [
      string,
      string[],
    ][];
    return raw.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        id,
        seq: Number(f.seq),
        body: f.body ?? "",
        partitionKey: f.pk ? f.pk : null,
        properties: f.props ? (JSON.parse(f.props) as Record<string, string>) : {},
        enqueuedMs: Number(f.t),
      };
    });
  }

  /** The consumer's stored checkpoint ("0" = none), remembered for trimming. */
  async loadCheckpoint(hub: string, p: number, fn: string): Promise<string> {
    const key = this.checkpointKey(hub, p, fn);
    const stored = await this.redis().get(key);
    if (stored) this.checkpoints.set(key, String(stored));
    return String(stored ?? "0");
  }

  async hasEventsAfter(hub: string, p: number, fn: string): Promise<boolean> {
    const ckpt = await this.redis().get(this.checkpointKey(hub, p, fn));
    return (await this.read(hub, p, String(ckpt ?? "0"), 1)).length > 0;
  }

  /**
   * Stores a consumer's checkpoint and, in the same MULTI/EXEC (one round trip, all or nothing), trims what
   * every consumer of the hub (`consumers`, function names) has checkpointed past: an event is never trimmed
   * unless the checkpoints that make it safe to trim are stored. Memory follows Redis only after the write succeeded.
   */
  async checkpoint(hub: string, p: number, fn: string, position: string, consumers: string[]): Promise<void> {
    const ckptKey = this.checkpointKey(hub, p, fn);
    const tx = this.redis().multi().set(ckptKey, position);
    const min = this.trimPoint(hub, p, ckptKey, position, consumers);
    // MINID keeps entries >= min: the checkpointed one stays too, harmless.
    if (min) tx.addCommand(["XTRIM", this.streamKey(hub, p), "MINID", "~", min]);
    await tx.exec();
    this.checkpoints.set(ckptKey, position);
  }

  /**
   * The lowest checkpoint of all consumers of a hub's partition, with `ckptKey` at `position`; undefined while
   * some consumer has none. The checkpoints are this process's own (one runtime per key prefix, held by the
   * runtime lease), so they are read from memory.
   */
  private trimPoint(hub: string, p: number, ckptKey: string, position: string, consumers: string[]): string | undefined {
    const ckpts = consumers.map((fn) => this.checkpointKey(hub, p, fn)).map((k) => (k === ckptKey ? position : this.checkpoints.get(k)));
    if (!ckpts.length || ckpts.some((c) => !c)) return undefined;
    return (ckpts as string[]).sort(compareIds)[0];
  }
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}
