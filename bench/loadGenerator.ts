/**
 * The open-loop load generator of the ceiling scenario (bench/ceiling.ts), run as its own process (forked,
 * IPC): the clients' CPU is not the runtime's. Player i of a step is requested at t0 + i / rate whatever
 * happened to the others (open loop: a slow server makes requests pile up, it does not slow the offered
 * rate down). Each request is one `POST /api/tickets` over a keep-alive connection pool.
 *
 * Messages: parent → child `StepRequest`; child → parent `StepReport`. Times are epoch milliseconds with
 * sub-millisecond precision (performance.timeOrigin + performance.now()), comparable across processes.
 */
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface StepRequest {
  type: "step";
  baseUrl: string;
  ratePerSec: number;
  seconds: number;
  /** playerId = prefix + index: unique per step. */
  playerPrefix: string;
  mode: string;
  region: string;
}

export interface StepReport {
  type: "report";
  /** [ticketId, requested at (epoch ms)] per accepted ticket. */
  accepted: [string, number][];
  failed: number;
  failures: string[];
  /** How late the generator sent its requests against the schedule (ms): p50, max. It must stay near 0. */
  sendLagP50Ms: number;
  sendLagMaxMs: number;
  /** POST /api/tickets answer times (ms): p50, p95. */
  answerP50Ms: number;
  answerP95Ms: number;
  /** CPU this process used during the step, ms (user + system), and the step's wall time, ms. */
  cpuMs: number;
  wallMs: number;
}

const nowMs = (): number => performance.timeOrigin + performance.now();
/**
 * Enough sockets that the pool never throttles the offered rate (each answer takes a few ms). Idle sockets
 * are dropped after 4 s, before the local runtime's keep-alive timeout (5 s) closes them: a request sent on a
 * socket the server is closing at that moment fails with ECONNRESET (seen at the first requests of a step
 * after a long drain).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: 4_000 });

function post(url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runStep(s: StepRequest): Promise<StepReport> {
  const url = new URL("/api/tickets", s.baseUrl);
  const players = Math.round(s.ratePerSec * s.seconds);
  const accepted: [string, number][] = [];
  const failures: string[] = [];
  const lags: number[] = [];
  const answers: number[] = [];
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < players; i++) {
    const due = t0 + (i * 1000) / s.ratePerSec;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    const sentAt = nowMs();
    lags.push(Math.max(0, sentAt - due));
    const body = JSON.stringify({ playerId: `${s.playerPrefix}${i}`, mode: s.mode, region: s.region });
    inFlight.push(
      post(url, body).then(
        ({ status, text }) => {
          answers.push(nowMs() - sentAt);
          const ticketId = status === 202 ? (JSON.parse(text) as { ticketId?: string }).ticketId : undefined;
          if (ticketId) accepted.push([ticketId, sentAt]);
          else {
            failed++;
            if (failures.length < 5) failures.push(`POST /api/tickets answered ${status}: ${text.slice(0, 200)}`);
          }
        },
        (err: unknown) => {
          failed++;
          if (failures.length < 5) failures.push(err instanceof Error ? err.message : String(err));
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const cpu = process.cpuUsage(cpu0);
  lags.sort((a, b) => a - b);
  answers.sort((a, b) => a - b);
  return {
    type: "report",
    accepted,
    failed,
    failures,
    sendLagP50Ms: quantile(lags, 0.5),
    sendLagMaxMs: lags.at(-1) ?? 0,
    answerP50Ms: quantile(answers, 0.5),
    answerP95Ms: quantile(answers, 0.95),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: nowMs() - t0,
  };
}

// Forked by bench/ceiling.ts: one step per message, until the parent disconnects.
if (require.main === module && process.send) {
  process.on("message", (m: StepRequest) => {
    if (m?.type !== "step") return;
    runStep(m).then(
      (r) => process.send!(r),
      (err: unknown) => process.send!({ type: "error", message: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
