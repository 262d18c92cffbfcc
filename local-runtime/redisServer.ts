/**
 * Starts private `redis-server` processes (standalone or a small OSS cluster) on free loopback ports.
 *
 * Used by the test setup, the benchmark and `npm start` when no REDIS_CONNECTION_STRING is given.
 * Development tooling only: production talks to Azure Managed Redis.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REDIS_MISSING_MESSAGE =
  "redis-server was not found on PATH. Install it with `apt-get install -y redis-server` " +
  "(Debian/Ubuntu) or `brew install redis` (macOS), or set REDIS_CONNECTION_STRING to an existing Redis.";

export class RedisServerMissingError extends Error {
  constructor() {
    super(REDIS_MISSING_MESSAGE);
    this.name = "RedisServerMissingError";
  }
}

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Data directory; persistent servers keep their files here. */
  dir: string;
  stop(): Promise<void>;
}

export interface RedisClusterHandle {
  /** Root nodes for createCluster(). */
  rootNodes: { url: string }[];
  ports: number[];
  stop(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return !probe.error && probe.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited with ${code ?? signal}`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server on port ${port} ${exited}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ port, host: "127.0.0.1" }, () => sock.write("PING\r\n"));
      sock.once("data", (d) => {
        sock.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      // The whole group when it has one (a watchdog and its server), else the child.
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    // A watchdog stops its server when its pipe closes (and waits for it); a bare server takes SIGTERM.
    if (child.stdin) child.stdin.end();
    else child.kill("SIGTERM");
  });
}

export interface StartRedisOptions {
  /** Keep data across restarts (AOF in `dir`). Default: no persistence at all. */
  persistDir?: string;
  port?: number;
  extraArgs?: string[];
  /**
   * Run in its own process group, so a Ctrl+C in the terminal reaches only our process, which then stops
   * the server itself after its clients are done (instead of the server dying under them).
   */
  detached?: boolean;
  /**
   * End the server when this process ends, however it ends (even SIGKILL): the server runs under a tiny
   * `sh` watchdog that holds a pipe from us and stops the server when the pipe closes. Linux and macOS.
   */
  dieWithParent?: boolean;
}

/** The watchdog: starts redis-server, waits for its stdin (our pipe) to close, then stops it and waits for it. */
const WATCHDOG = "redis-server \"$@\" & pid=$!; trap 'kill $pid 2>/dev/null' TERM INT HUP; cat >/dev/null; kill $pid 2>/dev/null; wait $pid";

function spawnRedis(args: string[], o: StartRedisOptions): ChildProcess {
  if (!o.dieWithParent) return spawn("redis-server", args, { stdio: "ignore", detached: o.detached ?? false });
  const child = spawn("sh", ["-c", WATCHDOG, "redis-watchdog", ...args], { stdio: ["pipe", "ignore", "ignore"], detached: o.detached ?? false });
  // Neither the child nor its pipe keeps our event loop alive; the pipe closes when we exit.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return child;
}

/** Starts one redis-server on a free loopback port. */
export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServerHandle> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  const port = opts.port ?? (await freePort());
  const dir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "mm-redis-"));
  const persistence = opts.persistDir ? ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""] : ["--appendonly", "no", "--save", ""];
  const pidfile = opts.persistDir ? ["--pidfile", join(dir, "redis.pid")] : [];
  const child = spawnRedis(
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", ...pidfile, ...persistence, ...(opts.extraArgs ?? [])],
    opts,
  );
  await waitForPing(port, child);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      await stopChild(child);
      if (!opts.persistDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a 3-master OSS Redis Cluster on loopback (no replicas, no persistence). */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  const dir = mkdtempSync(join(tmpdir(), "mm-redis-cluster-"));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      // Cluster bus uses port + 10000: pick ports whose bus port is free too.
      let port = await freePort();
      while (port > 55_000) port = await freePort();
      ports.push(port);
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--daemonize",
          "no",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "5000",
          "--appendonly",
          "no",
          "--save",
          "",
        ],
        { stdio: "ignore" },
      );
      children.push(child);
      await waitForPing(port, child);
    }
    const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
      encoding: "utf8",
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = ports.map((p) => spawnSync("redis-cli", ["-p", String(p), "cluster", "info"], { encoding: "utf8" }).stdout);
      if (states.every((s) => s.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline) throw new Error("Redis cluster did not reach cluster_state:ok");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })),
    ports,
    stop: async () => {
      await Promise.all(children.map(stopChild));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
