/**
 * One bad message must never cost the rest of its batch nor block its partition (DESIGN.md section 2,
 * defect 3). The use cases dead-letter what they can recognise as bad; this is the net under them: when a
 * whole batch fails for any reason but an unavailable service, each message is processed alone, and the
 * ones that still fail are dead-lettered with the failure as their reason. Only Unavailable propagates,
 * so the host's retry policy re-runs the batch when Redis or the Durable extension is back.
 *
 * Re-processing the messages that had succeeded is safe: every step of the intake and of the delivery is
 * idempotent.
 */
import { describeError, Unavailable } from "./errors";
import { deadLetterRejected, messageText, type Rejected } from "./messages";
import type { Ports } from "./ports";

export async function isolatePoison<R>(
  p: Pick<Ports, "store" | "log">,
  source: string,
  messages: unknown[],
  run: (messages: unknown[]) => Promise<R>,
  merge: (results: R[], poisoned: number) => R,
): Promise<R> {
  try {
    return await run(messages);
  } catch (err) {
    if (err instanceof Unavailable) throw err;
    p.log.warn(`${source}: a batch of ${messages.length} failed (${describeError(err)}); processing its messages one by one`);
  }
  const results: R[] = [];
  const poisoned: Rejected[] = [];
  for (const [index, message] of messages.entries()) {
    try {
      results.push(await run([message]));
    } catch (err) {
      if (err instanceof Unavailable) throw err;
      poisoned.push({ index, body: messageText(message), error: "processing_failed", detail: describeError(err).slice(0, 1000) });
    }
  }
  await deadLetterRejected(p.store, source, `${source} message`, poisoned, p.log);
  return merge(results, poisoned.length);
}
