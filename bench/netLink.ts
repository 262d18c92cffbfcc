/**
 * An emulated network link between the bench and a redis-server: the server runs in its own network namespace
 * behind a veth pair, and every round trip pays a configured delay (0.5 ms each way ≈ 1 ms round trip, about
 * what a function instance sees to Azure Managed Redis in the same region). Set up and torn down by the bench
 * itself; needs root (CAP_NET_ADMIN) and iproute2 (`ip`, `tc`).
 *
 * Two ways to add the delay, chosen when the link opens:
 * - `tc netem` on both ends of the veth pair (the kernel delays every packet), the first choice;
 * - where the kernel has no netem qdisc (e.g. Firecracker guest kernels), a userspace delay relay
 *   (bench/delayRelay.ts, its own process) in front of the veth pair: the bench connects to the relay, the relay
 *   forwards to the redis-server across the veth and holds every chunk for the delay in each direction. The
 *   relay's own hop and wake-ups add to every round trip, so its hold is calibrated: it is lowered until the
 *   PING round trip over the link (median) is the veth pair's own plus twice the delay.
 *
 * Addresses are link-local (a /30 of 169.254.0.0/16) on a veth pair that exists only on this machine, inside a
 * namespace the bench creates and deletes: no traffic leaves the machine and no existing interface is touched.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "redis";
import { percentile } from "../src/lib/percentile";
import { startDelayRelay, type DelayRelay, type RelayStats } from "./delayRelay";

export interface LinkSetting {
  name: string;
  /** Delay added each way, ms (0 = the veth pair alone). */
  oneWayDelayMs: number;
}

export type LinkMechanism = "netem" | "relay";

export interface PingStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LinkDelay {
  /** PING round trips over the link at this delay (one outstanding at a time). */
  ping: PingStats;
  /** Relay only: the hold per chunk and direction after calibration, ms. */
  relayHoldMs?: number;
}

export interface NetworkLink {
  url: string;
  setting: LinkSetting;
  mechanism: LinkMechanism;
  /** Why this mechanism, in words for the report (e.g. that the kernel has no netem qdisc). */
  why: string;
  /** PING round trips straight to the redis-server across the bare veth pair: the link without delay. */
  baseline: PingStats;
  /** Changes the delay in place (same namespace, same server); the relay is calibrated to it. */
  setDelay(setting: LinkSetting): Promise<LinkDelay>;
  /** The relay's process id; undefined with netem. */
  relayPid?: number;
  /** The relay's counters (CPU, chunks, release lateness) since the last reset; undefined with netem. */
  relayStats(reset?: boolean): Promise<RelayStats | undefined>;
  close(): Promise<void>;
}

export interface LinkOptions {
  /** "auto" (default): netem where the kernel has it, else the relay. */
  mechanism?: "auto" | LinkMechanism;
}

const REDIS_PORT = 6379;
/** A /30 of link-local addresses per bench process, so that two runs at once do not collide. */
const subnet = (id: number) => `169.254.${1 + (id % 250)}`;
/** The most the relay's calibration takes off its hold, ms each way: beyond that the link stays slower than set, and shows so. */
export const RELAY_MAX_CORRECTION_MS = 0.15;
/** The relay's calibration stops when the PING median is this close to the veth pair's plus twice the delay, ms. */
const CALIBRATION_TOLERANCE_MS = 0.02;
const CALIBRATION_ROUNDS = 4;

function run(args: string[]): { ok: boolean; error: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
  if (r.error) return { ok: false, error: r.error.message };
  return { ok: r.status === 0, error: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
}

function must(args: string[]): void {
  const r = run(args);
  if (!r.ok) throw new Error(`${args.join(" ")}: ${r.error}`);
}

/** Why the emulated link cannot run here, or undefined when it can be tried. */
export function linkUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (process.getuid?.() !== 0) return "needs root (run the bench as root: it creates a network namespace and a veth pair)";
  if (!run(["ip", "-V"]).ok) return "needs iproute2 (`ip`): apt-get install -y iproute2";
  if (!run(["tc", "-V"]).ok) return "needs iproute2 (`tc`): apt-get install -y iproute2";
  return undefined;
}

function netemReason(error: string): string {
  return /unknown|not supported|No such file/i.test(error)
    ? `this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM / sch_netem; tc said: ${error})`
    : `tc netem failed: ${error}`;
}

/** Whether netem can delay packets on `dev`: undefined when it can, else why not. */
function netemMissing(dev: string): string | undefined {
  const r = run(["tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "1ms"]);
  if (!r.ok) return netemReason(r.error);
  run(["tc", "qdisc", "del", "dev", dev, "root"]);
  return undefined;
}

/** Applies `setting` with netem on both ends of the veth pair (the host end first; `first` = no qdisc yet). */
function applyNetem(ns: string, hostIf: string, nsIf: string, setting: LinkSetting, first: boolean): void {
  if (setting.oneWayDelayMs <= 0) {
    if (!first) {
      run(["tc", "qdisc", "del", "dev", hostIf, "root"]);
      run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", nsIf, "root"]);
    }
    return;
  }
  const verb = first ? "add" : "replace";
  const delay = `${setting.oneWayDelayMs}ms`;
  for (const cmd of [
    ["tc", "qdisc", verb, "dev", hostIf, "root", "netem", "delay", delay],
    ["ip", "netns", "exec", ns, "tc", "qdisc", verb, "dev", nsIf, "root", "netem", "delay", delay],
  ]) {
    const r = run(cmd);
    if (!r.ok) throw new Error(netemReason(r.error));
  }
}

async function waitForRedis(url: string, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server in the namespace exited with ${child.exitCode}`);
    const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.ping();
      await client.close();
      return;
    } catch {
      await client.close().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`redis-server in the namespace did not answer within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** PING round trips, one outstanding at a time, after `warmup` unmeasured ones (connection set up, relay's aim settled). */
export async function pingStats(url: string, count = 200, warmup = 50): Promise<PingStats> {
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    for (let i = 0; i < warmup; i++) await client.ping();
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await client.ping();
      samples.push(performance.now() - t0);
    }
    return { count, meanMs: samples.reduce((a, b) => a + b, 0) / count, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
  } finally {
    await client.close();
  }
}

/** About half a second of round trips per measurement, between 60 and 300. */
const pingCountFor = (oneWayDelayMs: number) => Math.max(60, Math.min(300, Math.round(500 / (2 * oneWayDelayMs + 0.1))));

/**
 * Sets the relay's hold for `setting` and lowers it until the PING median over the link is the bare veth pair's
 * median plus twice the delay (within CALIBRATION_TOLERANCE_MS, by at most RELAY_MAX_CORRECTION_MS): the relay's
 * hop and wake-ups are part of what every round trip pays, so they come out of the hold. Returns the last measurement, taken at the hold returned.
 */
async function calibrateRelay(relay: DelayRelay, url: string, baseline: PingStats, setting: LinkSetting): Promise<LinkDelay> {
  const d = setting.oneWayDelayMs;
  const count = pingCountFor(d);
  if (d <= 0) {
    await relay.setDelay(0);
    return { ping: await pingStats(url, count), relayHoldMs: 0 };
  }
  const targetMs = baseline.p50Ms + 2 * d;
  let hold = d;
  for (let round = 1; ; round++) {
    await relay.setDelay(hold);
    const ping = await pingStats(url, count);
    const excess = ping.p50Ms - targetMs;
    if (Math.abs(excess) <= CALIBRATION_TOLERANCE_MS || round === CALIBRATION_ROUNDS) return { ping, relayHoldMs: hold };
    hold = Math.min(d, Math.max(Math.max(0, d - RELAY_MAX_CORRECTION_MS), hold - excess / 2));
  }
}

/** The bare veth pair, before any `setDelay`. */
export const NO_DELAY: LinkSetting = { name: "veth pair only", oneWayDelayMs: 0 };

/**
 * Creates the namespace, the veth pair and the redis-server behind it, without delay yet, and chooses how delay
 * will be added: netem where the kernel has it, else the delay relay (`options.mechanism` forces one). Everything
 * it made is removed again by `close()`, or at once when a step fails (the error says which and why).
 */
export async function openLink(options: LinkOptions = {}): Promise<NetworkLink> {
  const why = linkUnavailableReason();
  if (why) throw new Error(why);
  const id = `${process.pid % 100000}`;
  const hostAddress = `${subnet(process.pid)}.1`;
  const nsAddress = `${subnet(process.pid)}.2`;
  const ns = `mmbench${id}`;
  const hostIf = `mmb${id}h`;
  const nsIf = `mmb${id}n`;
  const dir = mkdtempSync(join(tmpdir(), "mm-netlink-"));
  let child: ChildProcess | undefined;
  let relay: DelayRelay | undefined;
  const teardown = async () => {
    await relay?.close();
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await Promise.race([new Promise((r) => child!.once("exit", r)), sleep(3000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    run(["ip", "netns", "del", ns]); // deletes the namespace's end of the veth pair, and so the pair
    run(["ip", "link", "del", hostIf]); // in case the pair never moved into the namespace
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    must(["ip", "netns", "add", ns]);
    must(["ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    must(["ip", "link", "set", nsIf, "netns", ns]);
    must(["ip", "addr", "add", `${hostAddress}/30`, "dev", hostIf]);
    must(["ip", "link", "set", hostIf, "up"]);
    must(["ip", "netns", "exec", ns, "ip", "addr", "add", `${nsAddress}/30`, "dev", nsIf]);
    must(["ip", "netns", "exec", ns, "ip", "link", "set", nsIf, "up"]);
    must(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    // `ip netns exec` execs redis-server in place: the child is the server itself.
    child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        "redis-server",
        "--port",
        String(REDIS_PORT),
        "--bind",
        nsAddress,
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
      ],
      { stdio: "ignore" },
    );
    const directUrl = `redis://${nsAddress}:${REDIS_PORT}`;
    await waitForRedis(directUrl, child);
    const baseline = await pingStats(directUrl, 300);

    const wanted = options.mechanism ?? "auto";
    const missing = wanted === "relay" ? undefined : netemMissing(hostIf);
    if (wanted === "netem" && missing) throw new Error(missing);
    let current = NO_DELAY;
    const common = { baseline, close: teardown };
    if (wanted !== "relay" && !missing) {
      return {
        ...common,
        url: directUrl,
        get setting() {
          return current;
        },
        mechanism: "netem",
        why: "tc netem on both ends of the veth pair",
        async setDelay(next: LinkSetting) {
          applyNetem(ns, hostIf, nsIf, next, current.oneWayDelayMs <= 0);
          current = next;
          return { ping: await pingStats(directUrl, pingCountFor(next.oneWayDelayMs)) };
        },
        relayStats: () => Promise.resolve(undefined),
      };
    }
    relay = await startDelayRelay({ listenHost: hostAddress, targetHost: nsAddress, targetPort: REDIS_PORT, oneWayDelayMs: 0 });
    const started = relay;
    const url = `redis://${hostAddress}:${relay.port}`;
    return {
      ...common,
      url,
      get setting() {
        return current;
      },
      mechanism: "relay",
      why: missing ? `${missing}, so a userspace delay relay holds every chunk instead` : "the delay relay was asked for",
      async setDelay(next: LinkSetting) {
        current = next;
        return calibrateRelay(started, url, baseline, next);
      },
      relayPid: started.pid,
      relayStats: (reset = false) => started.stats(reset),
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
