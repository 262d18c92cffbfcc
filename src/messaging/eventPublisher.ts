/**
 * Sends messages to Event Hubs at once, with partition keys and real error handling.
 *
 * Why not the Event Hub output binding: it sends only after the invocation succeeds and cannot set a
 * partition key, so a send failure cannot be acted on (e.g. keep a session in the outbox). The producer
 * client throws on failure and the caller decides.
 *
 * Connection: the same setting the triggers use (`EventHubConnection`): either a connection string in
 * `EventHubConnection`, or a managed identity with `EventHubConnection__fullyQualifiedNamespace`
 * (and optionally `EventHubConnection__clientId` for a user-assigned identity).
 *
 * The local runtime and the tests install their own publisher with setEventPublisher() before use.
 */
import { EventHubProducerClient, type EventData } from "@azure/event-hubs";
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { EVENTHUB_CONNECTION } from "../config/settings";
import { inSpan, SpanKind, withTraceparent } from "../telemetry/tracing";

export interface OutgoingEvent {
  body: unknown;
  partitionKey?: string;
  properties?: Record<string, string>;
}

export interface EventPublisher {
  send(hubName: string, events: OutgoingEvent[]): Promise<void>;
  close(): Promise<void>;
}

let installed: EventPublisher | undefined;
let defaultPublisher: EventPublisher | undefined;

/** Installs the publisher every handler uses (local runtime, tests). `undefined` goes back to the default. */
export function setEventPublisher(p: EventPublisher | undefined): void {
  installed = p;
}

/** The publisher of this process, every send in a producer span whose W3C traceparent the events carry. */
export function eventPublisher(): EventPublisher {
  return traced(installed ?? (defaultPublisher ??= new EventHubsPublisher(process.env)));
}

const tracedPublishers = new WeakMap<EventPublisher, EventPublisher>();

/**
 * Adds the trace context to every event (property `traceparent`, the W3C format Azure's own SDKs and the
 * consumer read) unless the caller set one for that event (a session's own trace).
 */
function traced(target: EventPublisher): EventPublisher {
  let p = tracedPublishers.get(target);
  if (!p) {
    p = {
      send: (hubName, events) =>
        inSpan(
          `send ${hubName}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { "messaging.system": "eventhubs", "messaging.destination.name": hubName, "messaging.batch.message_count": events.length },
          },
          () =>
            target.send(
              hubName,
              events.map((e) => ({ ...e, properties: withTraceparent(e.properties) })),
            ),
        ),
      close: () => target.close(),
    };
    tracedPublishers.set(target, p);
  }
  return p;
}

type Env = Record<string, string | undefined>;

/** Resolves the connection the way the Functions host resolves a trigger's `connection` prefix. */
export function resolveEventHubConnection(
  env: Env,
  prefix: string,
): { kind: "connectionString"; connectionString: string } | { kind: "identity"; fullyQualifiedNamespace: string; clientId?: string } {
  const direct = env[prefix]?.trim();
  if (direct) return { kind: "connectionString", connectionString: direct };
  const fqns = (env[`${prefix}__fullyQualifiedNamespace`] ?? env[`${prefix}:fullyQualifiedNamespace`])?.trim();
  if (fqns) {
    const clientId = (env[`${prefix}__clientId`] ?? env[`${prefix}:clientId`])?.trim() || undefined;
    return { kind: "identity", fullyQualifiedNamespace: fqns, clientId };
  }
  throw new Error(
    `No Event Hubs connection: set the app setting "${prefix}" to a connection string, or "${prefix}__fullyQualifiedNamespace" ` +
      `(e.g. mynamespace.servicebus.windows.net) to use a managed identity.`,
  );
}

/** Groups events so that one batch shares one partition key (a requirement of the service). */
export function groupByPartitionKey(events: OutgoingEvent[]): Map<string | undefined, OutgoingEvent[]> {
  const groups = new Map<string | undefined, OutgoingEvent[]>();
  for (const e of events) {
    const list = groups.get(e.partitionKey) ?? [];
    list.push(e);
    groups.set(e.partitionKey, list);
  }
  return groups;
}

/**
 * How long a send may take. The SDK's defaults (3 retries of up to 60 s each) held a client for 90 s when
 * Event Hubs was unreachable; a ticket request should answer 503 within a few seconds instead, and a
 * failed match-made send stays in the store's outbox for the sweeper anyway.
 */
export const PRODUCER_RETRY_OPTIONS = { maxRetries: 1, retryDelayInMs: 250, maxRetryDelayInMs: 1000, timeoutInMs: 2500 } as const;

class EventHubsPublisher implements EventPublisher {
  private readonly producers = new Map<string, EventHubProducerClient>();
  private credential: TokenCredential | undefined;

  constructor(private readonly env: Env) {}

  private producer(hubName: string): EventHubProducerClient {
    let p = this.producers.get(hubName);
    if (p) return p;
    const conn = resolveEventHubConnection(this.env, EVENTHUB_CONNECTION);
    if (conn.kind === "connectionString") {
      // A connection string that names an entity (EntityPath) must name this hub; otherwise pass the hub.
      p = /EntityPath=/i.test(conn.connectionString)
        ? new EventHubProducerClient(conn.connectionString, { retryOptions: PRODUCER_RETRY_OPTIONS })
        : new EventHubProducerClient(conn.connectionString, hubName, { retryOptions: PRODUCER_RETRY_OPTIONS });
    } else {
      this.credential ??= conn.clientId ? new ManagedIdentityCredential({ clientId: conn.clientId }) : new DefaultAzureCredential();
      p = new EventHubProducerClient(conn.fullyQualifiedNamespace, hubName, this.credential, { retryOptions: PRODUCER_RETRY_OPTIONS });
    }
    this.producers.set(hubName, p);
    return p;
  }

  async send(hubName: string, events: OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const producer = this.producer(hubName);
    // The batches of different partition keys go out concurrently: a chunk of sessions (one key each)
    // costs one round trip, not one per session.
    await Promise.all([...groupByPartitionKey(events)].map(([partitionKey, group]) => sendGroup(producer, hubName, partitionKey, group)));
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}

/** Sends events of one partition key, in order, in as few batches as fit. */
async function sendGroup(producer: EventHubProducerClient, hubName: string, partitionKey: string | undefined, group: OutgoingEvent[]): Promise<void> {
  const options = partitionKey === undefined ? {} : { partitionKey };
  let batch = await producer.createBatch(options);
  for (const e of group) {
    const data: EventData = { body: e.body, contentType: "application/json", properties: e.properties };
    if (batch.tryAdd(data)) continue;
    if (batch.count === 0) throw new Error(`An event for ${hubName} is larger than the maximum batch size`);
    await producer.sendBatch(batch);
    batch = await producer.createBatch(options);
    if (!batch.tryAdd(data)) throw new Error(`An event for ${hubName} is larger than the maximum batch size`);
  }
  if (batch.count > 0) await producer.sendBatch(batch);
}

/** An in-memory publisher: records what was sent; `failNext` makes sends throw (for tests and the simulator). */
export class MemoryEventPublisher implements EventPublisher {
  readonly sent: { hubName: string; event: OutgoingEvent }[] = [];
  failures = 0;

  async send(hubName: string, events: OutgoingEvent[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error(`simulated Event Hubs failure sending to ${hubName}`);
    }
    // Copy through JSON, as the wire would, so later mutation of the caller's objects cannot leak in.
    for (const event of events) this.sent.push({ hubName, event: JSON.parse(JSON.stringify(event)) as OutgoingEvent });
  }

  bodies(hubName: string): unknown[] {
    return this.sent.filter((s) => s.hubName === hubName).map((s) => s.event.body);
  }

  async close(): Promise<void> {}
}
