/**
 * The emulated network link really puts redis-server in its own namespace behind a veth pair, delays every round
 * trip (with netem where the kernel has it, else with the delay relay) and removes everything again. It needs
 * root and iproute2, as the bench's link part does; CI runs as root, so without them this test fails and says so.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MAX_EARLY_MS } from "../../bench/delayRelay";
import { linkUnavailableReason, openLink, RELAY_MAX_CORRECTION_MS } from "../../bench/netLink";

const ip = (...args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
const id = process.pid % 100000;

describe("emulated network link (bench, needs root)", () => {
  it("runs redis-server behind a veth pair in its own namespace, delays every round trip, and tears it all down", async () => {
    expect(linkUnavailableReason(), "the emulated link needs Linux, root and iproute2").toBeUndefined();
    const link = await openLink();
    let relayPid: number | undefined;
    try {
      expect(ip("netns", "list").stdout).toMatch(new RegExp(`mmbench${id}\\b`));
      expect(link.baseline.p50Ms).toBeLessThan(5);
      if (link.mechanism === "relay") {
        expect(link.why).toMatch(/netem/); // the relay is only the fallback, and the report says why
        expect(link.url).toMatch(/^redis:\/\/169\.254\.\d+\.1:\d+$/);
        relayPid = link.relayPid;
        expect(relayPid).toBeGreaterThan(0);
      } else expect(link.url).toMatch(/^redis:\/\/169\.254\.\d+\.2:6379$/);

      const delayed = await link.setDelay({ name: "~1 ms", oneWayDelayMs: 0.5 });
      if (link.mechanism === "relay") {
        // The calibrated hold stays within its bound, and no chunk leaves more than MAX_EARLY_MS early.
        expect(delayed.relayHoldMs).toBeGreaterThanOrEqual(0.5 - RELAY_MAX_CORRECTION_MS);
        expect(delayed.relayHoldMs).toBeLessThanOrEqual(0.5);
        expect(delayed.ping.p50Ms).toBeGreaterThanOrEqual(2 * (delayed.relayHoldMs! - MAX_EARLY_MS));
        const stats = await link.relayStats();
        expect(stats!.chunks).toBeGreaterThan(0);
      } else expect(delayed.ping.p50Ms).toBeGreaterThanOrEqual(0.9);
      expect(delayed.ping.p50Ms).toBeGreaterThan(link.baseline.p50Ms);
    } finally {
      await link.close();
    }
    expect(ip("netns", "list").stdout).not.toMatch(new RegExp(`mmbench${id}\\b`));
    expect(ip("link", "show", `mmb${id}h`).status).not.toBe(0);
    if (relayPid) expect(() => process.kill(relayPid, 0)).toThrow(/ESRCH/);
  });
});
