/**
 * The end-to-end ceiling of the local runtime: the whole path (POST /api/tickets → Event Hub → addPlayers →
 * store → assign → match-made → matchMade → raiseEvent → the player's orchestrator completes "matched")
 * under an open-loop load from a separate process (bench/loadGenerator.ts). The offered rate steps up; a
 * step holds when every request is accepted, every player is told within DRAIN_MS after the step's last
 * request, the p95 request → told stays under P95_BOUND_MS and the generator kept its schedule. The
 * ceiling is the last rate that held; the scenario stops at the first step that does not.
 *
 * The runtime runs in the bench's process (its observations wrap the functions core's invoke, as in
 * bench/e2e.ts); CPU is split by process: that process (runtime + observation), the generator, redis-server.
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { percentile } from "../src/lib/percentile";
import { loadModules, MODE, Observations, REGION, registerServers, startRuntime, type RuntimeLike } from "./e2e";
import type { StepReport, StepRequest } from "./loadGenerator";
import { connect, parseInfo, type RawClient } from "./redisProbe";
import { cpuSplit, startCpuProfile, type CpuPart } from "./cpuProfile";

export const P95_BOUND_MS = 500;
/** After a step's last request, how long its players may take to be told before the step counts as fallen behind. */
export const DRAIN_MS = 3_000;
/** The generator's median lag behind its own schedule above which the offered rate was not really offered. */
const MAX_SEND_LAG_MS = 20;
const SESSION_SIZE = 4;

export interface CeilingStep {
  ratePerSec: number;
  players: number;
  accepted: number;
  told: number;
  failed: number;
  requestToToldP50Ms: number;
  requestToToldP95Ms: number;
  requestToToldP99Ms: number;
  /** POST /api/tickets answer time seen by the generator. */
  answerP95Ms: number;
  sendLagP50Ms: number;
  /** Players told per second over the step (first request → last player told). */
  toldPerSec: number;
  /** CPU by process, % of one core over the step's wall time. */
  cpuPercent: { runtime: number; loadGenerator: number; redis: number };
  /** Runtime CPU per player told (ms): the process's CPU over the step / players told. */
  runtimeCpuMsPerPlayer?: number;
  /** The runtime process's main thread by part (bench/cpuProfile.ts), sampled over the step. */
  cpuSplit?: CpuPart[];
  held: boolean;
  /** Why it did not hold. */
  why?: string;
}

export type CeilingResult =
  | { available: false; reason: string }
  | { available: true; ceilingPerSec: number; p95BoundMs: number; drainMs: number; stepSeconds: number; steps: CeilingStep[]; notes: string[] };

export interface CeilingOptions {
  root: string;
  redisUrl: string;
  rates: number[];
  stepSeconds: number;
  progress: (m: string) => void;
}

const epochOf = (perfNow: number): number => performance.timeOrigin + perfNow;

function startGenerator(root: string): ChildProcess {
  return fork(join(root, "dist", "bench", "loadGenerator.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function runGeneratorStep(child: ChildProcess, step: StepRequest): Promise<StepReport> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: StepReport | { type: "error"; message: string }) => {
      child.off("exit", onExit);
      child.off("message", onMessage);
      if (m.type === "report") resolve(m);
      else reject(new Error(`load generator: ${m.message}`));
    };
    const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
    child.on("message", onMessage);
    child.once("exit", onExit);
    child.send(step);
  });
}

async function redisCpuMs(admin: RawClient): Promise<number> {
  const info = parseInfo(String(await admin.sendCommand(["INFO", "cpu"])));
  return (Number(info["used_cpu_user"]) + Number(info["used_cpu_sys"])) * 1000;
}

async function waitUntil(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

async function runStep(runtime: RuntimeLike, obs: Observations, child: ChildProcess, admin: RawClient, rate: number, seconds: number, index: number) {
  const players = Math.max(SESSION_SIZE, Math.round((rate * seconds) / SESSION_SIZE) * SESSION_SIZE);
  await registerServers(runtime.baseUrl, runtime.keys.functionKeys[0] ?? "", players / SESSION_SIZE + 2, index * 100_000);
  await runtime.drainEvents(10_000);
  obs.toldAtByTicket.clear();
  const stopProfile = await startCpuProfile();
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuMs(admin);
  const t0 = performance.now();
  const report = await runGeneratorStep(child, {
    type: "step",
    baseUrl: runtime.baseUrl,
    ratePerSec: rate,
    seconds: players / rate,
    playerPrefix: `ceil${index}-p`,
    mode: MODE,
    region: REGION,
  });
  const tickets = new Map(report.accepted);
  const lastRequest = Math.max(...report.accepted.map(([, at]) => at), epochOf(t0));
  const toldAll = () => [...tickets.keys()].every((t) => obs.toldAtByTicket.has(t));
  await waitUntil(toldAll, lastRequest - performance.timeOrigin + DRAIN_MS);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const redisMs = (await redisCpuMs(admin)) - redis0;
  const profile = await stopProfile();
  // For a closer look (Chrome DevTools, speedscope): CEILING_PROFILE_DIR=/tmp/x keeps each step's profile.
  if (process.env.CEILING_PROFILE_DIR) writeFileSync(join(process.env.CEILING_PROFILE_DIR, `ceiling-${index}-${rate}.cpuprofile`), JSON.stringify(profile));
  const wallMs = t1 - t0;
  const latencies: number[] = [];
  let lastTold = 0;
  for (const [ticketId, requestedAt] of tickets) {
    const told = obs.toldAtByTicket.get(ticketId);
    if (!told) continue;
    latencies.push(epochOf(told.at) - requestedAt);
    lastTold = Math.max(lastTold, epochOf(told.at));
  }
  const firstRequest = Math.min(...report.accepted.map(([, at]) => at));
  const step: CeilingStep = {
    ratePerSec: rate,
    players,
    accepted: report.accepted.length,
    told: latencies.length,
    failed: report.failed,
    requestToToldP50Ms: percentile(latencies, 50),
    requestToToldP95Ms: percentile(latencies, 95),
    requestToToldP99Ms: percentile(latencies, 99),
    answerP95Ms: report.answerP95Ms,
    sendLagP50Ms: report.sendLagP50Ms,
    toldPerSec: latencies.length / Math.max(0.001, (lastTold - firstRequest) / 1000),
    cpuPercent: {
      runtime: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      loadGenerator: (report.cpuMs / wallMs) * 100,
      redis: (redisMs / wallMs) * 100,
    },
    runtimeCpuMsPerPlayer: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
    cpuSplit: cpuSplit(profile),
    held: false,
  };
  const why = [
    report.failed ? `${report.failed} request(s) failed (${report.failures[0] ?? ""})` : "",
    step.told < step.accepted ? `fell behind: ${step.accepted - step.told} of ${step.accepted} players not told ${DRAIN_MS} ms after the last request` : "",
    step.requestToToldP95Ms >= P95_BOUND_MS ? `p95 ${step.requestToToldP95Ms.toFixed(0)} ms ≥ ${P95_BOUND_MS} ms` : "",
    report.sendLagP50Ms > MAX_SEND_LAG_MS ? `the load generator lagged its schedule (p50 ${report.sendLagP50Ms.toFixed(1)} ms)` : "",
  ].filter(Boolean);
  step.held = why.length === 0;
  if (!step.held) step.why = why.join("; ");
  return step;
}

export async function runCeiling(o: CeilingOptions): Promise<CeilingResult> {
  const modules = loadModules(o.root);
  if ("available" in modules) return modules;
  const logs: string[] = [];
  // Every simulated player comes from the generator's one address: the per-address abuse limit is off (the
  // per-player one stays, and costs what it costs on Azure).
  const env = { RATE_LIMIT_TICKETS_PER_ADDRESS: "0" };
  const runtime = await startRuntime(
    modules.start,
    { root: o.root, redisUrl: o.redisUrl, players: 0, ratePerSec: 0, sessionSize: SESSION_SIZE, progress: o.progress, env },
    logs,
  );
  if ("available" in runtime) return runtime;
  const obs = new Observations(runtime, modules.store);
  const child = startGenerator(o.root);
  const admin = await connect(o.redisUrl);
  const steps: CeilingStep[] = [];
  const notes: string[] = [];
  try {
    // A warm-up step, not judged: the first requests load modules and JIT-compile the whole path.
    o.progress("ceiling: warm-up");
    await runStep(runtime, obs, child, admin, Math.max(SESSION_SIZE, Math.round((o.rates[0] ?? 100) / 2)), 2, o.rates.length);
    for (const [i, rate] of o.rates.entries()) {
      o.progress(`ceiling: ${rate} players/s for ${o.stepSeconds} s`);
      const step = await runStep(runtime, obs, child, admin, rate, o.stepSeconds, i);
      steps.push(step);
      if (!step.held) break;
    }
    const errs = logs.filter((l) => /error|fail|exception/i.test(l)).slice(-3);
    if (errs.length) notes.push(`runtime log (last errors): ${errs.map((l) => l.slice(0, 300)).join(" | ")}`);
  } finally {
    child.disconnect();
    obs.restore();
    await admin.close().catch(() => undefined);
    await runtime.stop().catch((err: unknown) => notes.push(`runtime.stop failed: ${String(err)}`));
  }
  const held = steps.filter((s) => s.held);
  return {
    available: true,
    ceilingPerSec: held.at(-1)?.ratePerSec ?? 0,
    p95BoundMs: P95_BOUND_MS,
    drainMs: DRAIN_MS,
    stepSeconds: o.stepSeconds,
    steps,
    notes,
  };
}
