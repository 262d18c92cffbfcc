/**
 * Activity `leaveQueue`: the orchestrator's only store call. One atomic store operation: frees the slot,
 * or reports that the session already got a server (the player is then matched, not timed out).
 */
import * as df from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import type { LeaveResult } from "../store/types";
import { store } from "../app/deps";
import { LEAVE_ACTIVITY_NAME } from "../app/durable";
import type { LeaveQueueInput } from "../app/matchLogic";

export async function leaveQueue(input: unknown, context: InvocationContext): Promise<LeaveResult> {
  const i = input as LeaveQueueInput;
  const [result] = await (await store()).leave([{ playerId: i.playerId, ticketId: i.ticketId, region: i.region, reason: i.reason }]);
  if (!result) throw new Error("the store answered no result for the leave request");
  context.log(`leaveQueue ${i.playerId} ticket ${i.ticketId} (${i.reason}): ${result.outcome}`);
  return result;
}

df.app.activity(LEAVE_ACTIVITY_NAME, { handler: leaveQueue });
