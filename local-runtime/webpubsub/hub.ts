/**
 * The state of one Web PubSub hub: connections, their users, groups and permissions, and delivery of a
 * message to a connection in the form its subprotocol expects.
 *
 * Subprotocols (the names the client offers in Sec-WebSocket-Protocol):
 * - `json.webpubsub.azure.v1`: JSON frames `{type: "message", from: "server" | "group", dataType, data}`.
 * - `json.reliable.webpubsub.azure.v1`: the same frames with a `sequenceId` (1, 2, ... per connection); the
 *   service keeps every frame until the client acknowledges it (`sequenceAck` = "all up to here") and keeps
 *   the connection for a recovery window after its socket drops, so a client that reconnects with
 *   `awps_connection_id` + `awps_reconnection_token` gets every frame it has not acknowledged, in order.
 * - none: a "simple WebSocket client" receives the payload itself (text frame for json/text, binary frame
 *   for binary).
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { WebSocket } from "ws";

export const JSON_PROTOCOL = "json.webpubsub.azure.v1";
export const RELIABLE_PROTOCOL = "json.reliable.webpubsub.azure.v1";
export type ClientProtocol = "json" | "reliable" | "raw";

export type DataType = "json" | "text" | "binary";
/** A payload as it travels in JSON frames: json = any JSON value, text = string, binary = base64 string. */
export interface Payload {
  dataType: DataType;
  data: unknown;
}

export interface HubLimits {
  /** How long a reliable connection whose socket dropped waits for its client to recover it. */
  recoveryWindowMs: number;
  /** Unacknowledged frames a reliable connection may hold; beyond it the service drops the connection. */
  maxUnacked: number;
}

const PROCESSED_ACK_IDS_KEPT = 1000;

export class Connection {
  readonly connectionId = randomUUID().replace(/-/g, "");
  readonly reconnectionToken = randomBytes(24).toString("base64url");
  readonly groups = new Set<string>();
  /** Permission names as the REST API spells them, optionally with `.<group>`: joinLeaveGroup, sendToGroup. */
  readonly permissions = new Set<string>();
  socket: WebSocket | undefined;
  recoveryTimer: NodeJS.Timeout | undefined;
  private lastSequenceId = 0;
  private readonly unacked: { sequenceId: number; frame: string }[] = [];
  private readonly processedAckIds: number[] = [];

  constructor(
    readonly hub: string,
    readonly userId: string | undefined,
    readonly protocol: ClientProtocol,
    roles: string[],
    private readonly limits: HubLimits,
  ) {
    for (const role of roles) {
      const m = /^webpubsub\.(joinLeaveGroup|sendToGroup)(\.(.+))?$/.exec(role);
      if (m) this.permissions.add(m[3] ? `${m[1]}.${m[3]}` : m[1]!);
    }
  }

  may(permission: "joinLeaveGroup" | "sendToGroup", group: string): boolean {
    return this.permissions.has(permission) || this.permissions.has(`${permission}.${group}`);
  }

  reconnectionTokenMatches(token: string): boolean {
    const a = Buffer.from(token);
    const b = Buffer.from(this.reconnectionToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** True the first time an ackId is seen: a repeated one is answered `Duplicate` (the client resent it). */
  firstTimeAckId(ackId: number): boolean {
    if (this.processedAckIds.includes(ackId)) return false;
    this.processedAckIds.push(ackId);
    if (this.processedAckIds.length > PROCESSED_ACK_IDS_KEPT) this.processedAckIds.shift();
    return true;
  }

  /** Sends a protocol frame (connected, ack, pong, disconnected): not sequenced. */
  sendControl(frame: Record<string, unknown>): void {
    if (this.protocol !== "raw" && this.socket?.readyState === 1) this.socket.send(JSON.stringify(frame));
  }

  /** Delivers a data message; false when a reliable connection overflowed its buffer and must be dropped. */
  deliver(origin: { from: "server" } | { from: "group"; group: string; fromUserId: string | undefined }, payload: Payload): boolean {
    const open = this.socket?.readyState === 1;
    if (this.protocol === "raw") {
      if (!open) return true;
      if (payload.dataType === "binary") this.socket!.send(Buffer.from(String(payload.data), "base64"));
      else this.socket!.send(payload.dataType === "text" ? String(payload.data) : JSON.stringify(payload.data));
      return true;
    }
    const message: Record<string, unknown> = { type: "message", ...origin, dataType: payload.dataType, data: payload.data };
    if (this.protocol === "json") {
      if (open) this.socket!.send(JSON.stringify(message));
      return true;
    }
    const sequenceId = ++this.lastSequenceId;
    const frame = JSON.stringify({ sequenceId, ...message });
    this.unacked.push({ sequenceId, frame });
    if (this.unacked.length > this.limits.maxUnacked) return false;
    if (open) this.socket!.send(frame);
    return true;
  }

  /** `sequenceAck`: every frame up to and including `sequenceId` has arrived. */
  acknowledge(sequenceId: number): void {
    let n = 0;
    while (n < this.unacked.length && this.unacked[n]!.sequenceId <= sequenceId) n++;
    this.unacked.splice(0, n);
  }

  /** After a recovery: the frames the client has not acknowledged, in order. */
  replay(): void {
    for (const { frame } of this.unacked) this.socket?.send(frame);
  }

  get unackedCount(): number {
    return this.unacked.length;
  }
}

export class Hub {
  readonly connections = new Map<string, Connection>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly users = new Map<string, Set<string>>();

  constructor(
    readonly name: string,
    readonly limits: HubLimits,
  ) {}

  add(c: Connection): void {
    this.connections.set(c.connectionId, c);
    if (c.userId !== undefined) setOf(this.users, c.userId).add(c.connectionId);
  }

  remove(c: Connection): void {
    if (this.connections.get(c.connectionId) !== c) return;
    this.connections.delete(c.connectionId);
    clearTimeout(c.recoveryTimer);
    for (const g of [...c.groups]) this.leave(c, g);
    if (c.userId !== undefined) unlink(this.users, c.userId, c.connectionId);
  }

  join(c: Connection, group: string): void {
    c.groups.add(group);
    setOf(this.groups, group).add(c.connectionId);
  }

  leave(c: Connection, group: string): void {
    c.groups.delete(group);
    unlink(this.groups, group, c.connectionId);
  }

  ofUser(userId: string): Connection[] {
    return this.resolve(this.users.get(userId));
  }

  ofGroup(group: string): Connection[] {
    return this.resolve(this.groups.get(group));
  }

  private resolve(ids: Set<string> | undefined): Connection[] {
    return [...(ids ?? [])].map((id) => this.connections.get(id)).filter((c): c is Connection => c !== undefined);
  }

  /** Delivers to each connection; one that overflows its reliable buffer is dropped, as the service does. */
  deliverTo(targets: Connection[], origin: Parameters<Connection["deliver"]>[0], payload: Payload): void {
    for (const c of targets) {
      if (!c.deliver(origin, payload)) this.close(c, "the connection holds too many unacknowledged messages");
    }
  }

  /** Ends a connection for good: `disconnected` frame, socket closed, session gone (no recovery). */
  close(c: Connection, reason: string): void {
    c.sendControl({ type: "system", event: "disconnected", message: reason });
    const socket = c.socket;
    c.socket = undefined;
    this.remove(c);
    socket?.close(1000, reason.slice(0, 120));
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  return s;
}

function unlink(map: Map<string, Set<string>>, key: string, id: string): void {
  const s = map.get(key);
  if (!s) return;
  s.delete(id);
  if (s.size === 0) map.delete(key);
}
