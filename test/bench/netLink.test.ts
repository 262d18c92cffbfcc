/**
 * The emulated link really puts redis-server in its own namespace behind a veth pair and removes everything
 * again. Where the kernel has netem the added delay shows in the round trip; where it has not, opening a delayed
 * link fails with the reason the bench prints as its one skip line.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { linkUnavailableReason, openLink, pingRttMs } from "../../bench/netLink";

const namespaces = () => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;

describe("emulated network link (bench, needs root)", () => {
  it("runs redis-server behind a veth pair in its own namespace, and tears it all down", async () => {
    const why = linkUnavailableReason();
    if (why) {
      // Not root or no iproute2: the reason is the bench's skip line.
      expect(why).toMatch(/needs (root|iproute2|Linux)/);
      return;
    }
    const link = await openLink({ name: "veth only", oneWayDelayMs: 0 });
    try {
      expect(link.url).toMatch(/^redis:\/\/169\.254\.\d+\.2:6379$/);
      expect(namespaces()).toMatch(/mmbench\d+/);
      expect(await pingRttMs(link.url, 20)).toBeLessThan(5);
      try {
        link.setDelay({ name: "~1 ms", oneWayDelayMs: 0.5 });
        expect(await pingRttMs(link.url, 20)).toBeGreaterThanOrEqual(0.9);
      } catch (err) {
        expect(String(err)).toMatch(/netem/);
      }
    } finally {
      await link.close();
    }
    expect(namespaces()).not.toMatch(new RegExp(`mmbench${process.pid % 100000}\\b`));
  });
});
