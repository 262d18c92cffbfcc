/**
 * The real start command, spawned and signalled (issue 9): every way of stopping ends the runtime and its
 * private redis-server, and a start with invalid settings exits non-zero with the problems and no banner.
 * The first test runs `npm start` itself (which builds dist/); the others start dist/local-runtime/main.js.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, expect, it } from "vitest";
import { readLeaseHolder } from "../../../local-runtime/host/lease";
import { freePort } from "../../../local-runtime/redisServer";

const repoRoot = join(__dirname, "..", "..", "..");
const dirs: string[] = [];
const spawned: ChildProcess[] = [];
afterAll(() => {
  for (const c of spawned) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what} (pid ${pid}) is still running`);
    await sleep(100);
  }
}

interface Started {
  child: ChildProcess;
  output: () => string;
  redisDir: string;
  redisPort: number;
  prefix: string;
}

/** Starts `command` like a user would, with a private redis-server in a fresh directory, on free ports. */
async function start(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Started> {
  const redisDir = mkdtempSync(join(tmpdir(), "mm-start-redis-"));
  dirs.push(redisDir);
  const redisPort = await freePort();
  const prefix = `start${Math.random().toString(36).slice(2, 8)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_PORT: String(await freePort()),
    LOCAL_REDIS_PORT: String(redisPort),
    LOCAL_REDIS_DIR: redisDir,
    REDIS_KEY_PREFIX: prefix,
    TICKET_SIGNING_KEY: "start-command-test-signing-key-0123456789abcdef",
    ...extraEnv,
  };
  delete env.REDIS_CONNECTION_STRING;
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  spawned.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, redisDir, redisPort, prefix };
}

async function untilUp(s: Started, timeoutMs: number): Promise<{ runtimePid: number; redisPid: number }> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes("LOCAL RUNTIME")) {
    if (s.child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${s.output()}`);
    await sleep(200);
  }
  const holder = await readLeaseHolder(`redis://127.0.0.1:${s.redisPort}`, s.prefix);
  const redisPid = Number(readFileSync(join(s.redisDir, "redis.pid"), "utf8").trim());
  if (!holder) throw new Error("no runtime lease");
  return { runtimePid: holder.pid, redisPid };
}

it("kill -TERM of npm start's npm process ends the runtime and its redis-server", async () => {
  const s = await start("npm", ["start", "--silent"]);
  const { runtimePid, redisPid } = await untilUp(s, 240_000);
  expect(runtimePid).not.toBe(s.child.pid); // npm -> sh -> node: the runtime is a grandchild
  process.kill(s.child.pid!, "SIGTERM");
  await gone(runtimePid, "the runtime");
  await gone(redisPid, "its redis-server");
}, 300_000);

it("SIGKILL of the runtime itself still ends its redis-server", async () => {
  const s = await start("node", ["dist/local-runtime/main.js"]);
  const { runtimePid, redisPid } = await untilUp(s, 60_000);
  expect(runtimePid).toBe(s.child.pid);
  process.kill(runtimePid, "SIGKILL");
  await gone(redisPid, "its redis-server");
}, 120_000);

it("Ctrl+C (SIGINT) stops the runtime and its redis-server, exit code 0", async () => {
  const s = await start("node", ["dist/local-runtime/main.js"]);
  const { redisPid } = await untilUp(s, 60_000);
  const exited = new Promise<number | null>((resolve) => s.child.once("exit", (code) => resolve(code)));
  process.kill(s.child.pid!, "SIGINT");
  expect(await exited).toBe(0);
  await gone(redisPid, "its redis-server");
}, 120_000);

it("exits non-zero when the app's appStart hook throws: the problems are printed, the banner is not", async () => {
  const badRules = { duel: 0, ranked: { teams: 2, teamSize: 5, maxPartySize: 6, latency: { max: 80, widen: [] } } };
  const s = await start("node", ["dist/local-runtime/main.js"], { MATCH_TIMEOUT_SECONDS: "abc", MATCH_MODES: JSON.stringify(badRules) });
  const code = await new Promise<number | null>((resolve) => s.child.once("exit", (c) => resolve(c)));
  expect(code).not.toBe(0);
  expect(s.output()).toContain("MATCH_TIMEOUT_SECONDS");
  // Every problem of the rule sets, each on its own line (issue 11).
  expect(s.output()).toContain("MATCH_MODES mode duel: session size");
  expect(s.output()).toContain("MATCH_MODES mode ranked: maxPartySize 6 is above teamSize 5");
  expect(s.output()).not.toContain("LOCAL RUNTIME");
  // Nothing left behind: the private redis-server it started is gone too.
  await sleep(500);
  const pidFile = join(s.redisDir, "redis.pid");
  let redisPid: number | undefined;
  try {
    redisPid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    redisPid = undefined; // redis removes its pid file on a clean shutdown
  }
  if (redisPid) await gone(redisPid, "its redis-server");
}, 120_000);
