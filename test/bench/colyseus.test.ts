/** The Colyseus peer really seats players into full rooms on a real redis-server, and counts what it did. */
import { describe, expect, inject, it } from "vitest";
import { runColyseus } from "../../bench/colyseus";
import { connect } from "../../bench/redisProbe";

describe("Colyseus peer (matchMaker.joinOrCreate on RedisPresence + RedisDriver)", () => {
  it("seats every player into rooms of exactly N, with Redis work measured per player", async () => {
    const admin = await connect(inject("redisUrl"));
    const sentinel = `colyseus-test-sentinel-${process.pid}`;
    try {
      // Other test files keep their data in database 0 of the same server: the peer must leave it alone.
      await admin.sendCommand(["SET", sentinel, "kept", "EX", "600"]);
      // Its own database: the peer flushes what it measures on.
      await admin.sendCommand(["SELECT", "9"]);
      const url = `${inject("redisUrl")}/9`;
      const r = await runColyseus(url, admin, { players: 200, sessionSize: 4, inFlight: 20 });
      // Every player seated (a join that lost a race is retried and counted), no room ever over its size.
      expect(r.seated).toBe(200);
      expect(r.roomsOverfilled).toBe(0);
      expect(r.rooms).toBeGreaterThanOrEqual(50);
      if (r.failures > 0) expect(r.notes.join(" ")).toMatch(/joinOrCreate calls failed and were retried/);
      expect(r.playersPerSec).toBeGreaterThan(0);
      expect(r.timeToSeatMsP50).toBeGreaterThan(0);
      expect(r.serverCommandsPerPlayer).toBeGreaterThan(1);
      expect(r.version).toMatch(/^0\.16\./);
      // It flushed database 9 only (a FLUSHALL here once wiped concurrent test files' players mid-test).
      await admin.sendCommand(["SELECT", "0"]);
      expect(await admin.sendCommand(["GET", sentinel])).toBe("kept");
      await admin.sendCommand(["DEL", sentinel]);
    } finally {
      await admin.close();
    }
  });
});
