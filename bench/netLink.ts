/**
 * An emulated network link between the bench and a redis-server: the server runs in its own network namespace
 * behind a veth pair, and `tc netem` delays every packet on both ends (0.5 ms each way ≈ 1 ms round trip,
 * about what a function instance sees to Azure Managed Redis in the same region). Set up and torn down by the
 * bench itself; needs root (CAP_NET_ADMIN) and iproute2 (`ip`, `tc`), and a kernel with the netem qdisc.
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

export interface LinkSetting {
  name: string;
  /** Delay added on each end, ms (0 = the veth pair alone, no netem). */
  oneWayDelayMs: number;
}

export interface NetworkLink {
  url: string;
  setting: LinkSetting;
  /** Changes the delay in place (same namespace, same server). */
  setDelay(setting: LinkSetting): void;
  close(): Promise<void>;
}

const REDIS_PORT = 6379;
/** A /30 of link-local addresses per bench process, so that two runs at once do not collide. */
const subnet = (id: number) => `169.254.${1 + (id % 250)}`;

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
    ? `this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM / sch_netem), so no delay can be added (tc said: ${error})`
    : `tc netem failed: ${error}`;
}

/** Applies `setting` on both ends; throws with the reason when netem is not there. */
function applyDelay(ns: string, hostIf: string, nsIf: string, setting: LinkSetting, first: boolean): void {
  const verb = first ? "add" : "replace";
  if (setting.oneWayDelayMs <= 0) {
    if (!first) {
      run(["tc", "qdisc", "del", "dev", hostIf, "root"]);
      run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", nsIf, "root"]);
    }
    return;
  }
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

/**
 * Creates the namespace, the veth pair and the redis-server behind it, with `setting`'s delay. Everything it made
 * is removed again by `close()`, or at once when a step fails (the error says which and why).
 */
export async function openLink(setting: LinkSetting): Promise<NetworkLink> {
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
  const teardown = async () => {
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
    applyDelay(ns, hostIf, nsIf, setting, true);
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
    const url = `redis://${nsAddress}:${REDIS_PORT}`;
    await waitForRedis(url, child);
    let current = setting;
    return {
      url,
      get setting() {
        return current;
      },
      setDelay(next: LinkSetting) {
        applyDelay(ns, hostIf, nsIf, next, current.oneWayDelayMs <= 0);
        current = next;
      },
      close: teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** Mean PING round trip over the link, ms (one outstanding at a time). */
export async function pingRttMs(url: string, count = 50): Promise<number> {
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.ping();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await client.ping();
    return (performance.now() - t0) / count;
  } finally {
    await client.close();
  }
}
