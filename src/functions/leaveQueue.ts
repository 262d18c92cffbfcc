/** Activity `leaveQueue` → leaveQueue (src/usecases): the orchestrator's only store call. */
import * as df from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import type { LeaveResult } from "../domain/types";
import type { LeaveQueueInput } from "../domain/matchRequest";
import { leaveQueue as leave } from "../usecases/leaveQueue";
import { LEAVE_ACTIVITY_NAME } from "./durable/matchRequests";
import { portsFor } from "./wiring";

export async function leaveQueue(input: unknown, context: InvocationContext): Promise<LeaveResult> {
  return leave(portsFor(context), input as LeaveQueueInput);
}

df.app.activity(LEAVE_ACTIVITY_NAME, { handler: leaveQueue });
