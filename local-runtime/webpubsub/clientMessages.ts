/**
 * What a PubSub WebSocket client may send (JSON subprotocols), and the service's answers:
 * joinGroup / leaveGroup / sendToGroup (with an optional `ackId`: `{type: "ack", ackId, success, error?}`,
 * `Duplicate` for an ackId already processed, `Forbidden` without the role), sequenceAck (reliable only),
 * ping (answered `pong`). `event` and `invoke` go to upstream event handlers, which this service does not
 * play: they are answered with a failure naming that. A frame that is not one of these is a protocol
 * violation: the service says why (`disconnected`) and closes the connection.
 */
import type { Connection, DataType, Hub, Payload } from "./hub";

type Frame = Record<string, unknown> & { type: string };

const DATA_TYPES: readonly DataType[] = ["json", "text", "binary"];

function payloadOf(frame: Frame): Payload | string {
  const dataType = (frame.dataType ?? "json") as DataType;
  if (!DATA_TYPES.includes(dataType)) return `unsupported dataType ${JSON.stringify(frame.dataType)} (json, text, binary are played)`;
  if (dataType !== "json" && typeof frame.data !== "string") return `data must be a string for dataType ${dataType}`;
  return { dataType, data: frame.data };
}

/** Answers a request that carried an ackId (none without); never a reason to drop the client. */
function ack(c: Connection, ackId: unknown, error?: { name: "Forbidden" | "InternalServerError" | "Duplicate"; message: string }): undefined {
  if (typeof ackId === "number") c.sendControl(error ? { type: "ack", ackId, success: false, error } : { type: "ack", ackId, success: true });
  return undefined;
}

/** Handles one text frame of a JSON-subprotocol client; returns a reason when the client must be dropped. */
export function handleClientFrame(hub: Hub, c: Connection, text: string): string | undefined {
  let frame: Frame;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || typeof (parsed as { type?: unknown }).type !== "string")
      return "a frame must be a JSON object with a type";
    frame = parsed as Frame;
  } catch {
    return "a frame is not valid JSON";
  }
  if (frame.ackId !== undefined && (typeof frame.ackId !== "number" || !Number.isSafeInteger(frame.ackId))) return "ackId must be an integer";
  const isRepeat = typeof frame.ackId === "number" && !c.firstTimeAckId(frame.ackId);
  switch (frame.type) {
    case "ping":
      c.sendControl({ type: "pong" });
      return undefined;
    case "sequenceAck":
      if (c.protocol !== "reliable") return "sequenceAck is only part of the reliable subprotocol";
      if (typeof frame.sequenceId !== "number") return "sequenceAck needs a numeric sequenceId";
      c.acknowledge(frame.sequenceId);
      return undefined;
    case "joinGroup":
    case "leaveGroup": {
      const group = frame.group;
      if (typeof group !== "string" || group.trim() === "" || group.length > 1024) return `${frame.type} needs a group name (1-1024 characters)`;
      if (isRepeat) return ack(c, frame.ackId, { name: "Duplicate", message: `Message with ack-id: ${String(frame.ackId)} has been processed` });
      if (!c.may("joinLeaveGroup", group)) return ack(c, frame.ackId, { name: "Forbidden", message: `the connection may not join or leave group ${group}` });
      if (frame.type === "joinGroup") hub.join(c, group);
      else hub.leave(c, group);
      return ack(c, frame.ackId);
    }
    case "sendToGroup": {
      const group = frame.group;
      if (typeof group !== "string" || group.trim() === "" || group.length > 1024) return "sendToGroup needs a group name (1-1024 characters)";
      const payload = payloadOf(frame);
      if (typeof payload === "string") return payload;
      if (isRepeat) return ack(c, frame.ackId, { name: "Duplicate", message: `Message with ack-id: ${String(frame.ackId)} has been processed` });
      if (!c.may("sendToGroup", group)) return ack(c, frame.ackId, { name: "Forbidden", message: `the connection may not send to group ${group}` });
      const targets = hub.ofGroup(group).filter((m) => !(frame.noEcho === true && m === c));
      hub.deliverTo(targets, { from: "group", group, fromUserId: c.userId }, payload);
      return ack(c, frame.ackId);
    }
    case "event":
      return ack(c, frame.ackId, { name: "InternalServerError", message: "upstream event handlers are not played by the local Web PubSub service" });
    case "invoke":
      c.sendControl({
        type: "invokeResponse",
        invocationId: frame.invocationId,
        success: false,
        error: { name: "InternalServerError", message: "upstream event handlers are not played by the local Web PubSub service" },
      });
      return undefined;
    case "cancelInvocation":
      return undefined;
    default:
      return `unknown frame type ${JSON.stringify(frame.type)}`;
  }
}
