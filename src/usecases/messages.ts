/**
 * Event Hub message intake: whatever shape the host hands over (parsed JSON object, string, Buffer),
 * checked against the published schema and the domain rules. A bad message becomes a rejection with a
 * reason (to be dead-lettered), never an exception that would cost the rest of the batch.
 */
import { recordDeadLetters } from "../telemetry/metrics";
import type { MatchMade, PlayerRequest } from "../domain/types";
import { validatePlayerRequest, type MatchRules, validateAddress } from "../domain/validation";
import { checkSchema } from "./schemas";
import type { Log, Store } from "./ports";

export interface Rejected {
  index: number;
  body: string;
  error: string;
  detail: string;
}

export type Parsed<T> = { ok: true; index: number; value: T } | ({ ok: false } & Rejected);

const MAX_DEAD_LETTER_BODY = 8192;

/** The message as text, for the dead-letter record. */
export function messageText(raw: unknown): string {
  let text: string;
  if (Buffer.isBuffer(raw)) text = raw.toString("utf8");
  else if (raw instanceof Uint8Array) text = Buffer.from(raw).toString("utf8");
  else if (typeof raw === "string") text = raw;
  else {
    try {
      text = JSON.stringify(raw) ?? String(raw);
    } catch {
      text = String(raw);
    }
  }
  return text.length > MAX_DEAD_LETTER_BODY ? `${text.slice(0, MAX_DEAD_LETTER_BODY)}…` : text;
}

/** Decodes one message to a JSON value. */
export function decodeMessage(raw: unknown): { ok: true; value: unknown } | { ok: false; error: string; detail: string } {
  let value: unknown = raw;
  if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) value = Buffer.from(raw).toString("utf8");
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch (err) {
      return { ok: false, error: "malformed_json", detail: `the message is not JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { ok: true, value };
}

export function parsePlayerRequest(raw: unknown, index: number, rules: MatchRules): Parsed<PlayerRequest & { requestedAtMs: number }> {
  const reject = (error: string, detail: string): Parsed<never> => ({ ok: false, index, body: messageText(raw), error, detail });
  const decoded = decodeMessage(raw);
  if (!decoded.ok) return reject(decoded.error, decoded.detail);
  const schemaProblem = checkSchema("playerRequest", decoded.value, "the player request");
  if (schemaProblem) return reject(schemaProblem.error, schemaProblem.detail);
  const domain = validatePlayerRequest(decoded.value, rules);
  if (!domain.ok) return reject(domain.error.error, domain.error.detail);
  return { ok: true, index, value: domain.value };
}

export function parseMatchMade(raw: unknown, index: number): Parsed<MatchMade> {
  const reject = (error: string, detail: string): Parsed<never> => ({ ok: false, index, body: messageText(raw), error, detail });
  const decoded = decodeMessage(raw);
  if (!decoded.ok) return reject(decoded.error, decoded.detail);
  const schemaProblem = checkSchema("matchMade", decoded.value, "the match-made message");
  if (schemaProblem) return reject(schemaProblem.error, schemaProblem.detail);
  const msg = decoded.value as MatchMade;
  const address = validateAddress(msg.address);
  if (!address.ok) return reject(address.error.error, address.error.detail);
  return { ok: true, index, value: msg };
}

/** Logs each rejected message (`<what> rejected (<error>): <detail>`) and dead-letters them all with ONE store call. */
export async function deadLetterRejected(
  st: Pick<Store, "deadLetter">,
  source: string,
  what: string,
  rejected: Rejected[],
  log: Pick<Log, "warn">,
): Promise<void> {
  if (rejected.length === 0) return;
  for (const r of rejected) log.warn(`${what} rejected (${r.error}): ${r.detail}`);

  await st.deadLetter(
    source,
    rejected.map(({ body, error, detail }) => ({ body, error, detail })),
  );
  recordDeadLetters(
    source,
    rejected.map((r) => r.error),
  );
}
