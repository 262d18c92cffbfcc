/**
 * The reference port must behave like the C# sample it mirrors (Azure-Samples/gaming-serverless-matchmaker):
 * same keys and values, same grouping, same round trips per player, same timer behaviour.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { int32Parse, ReferenceMatchmaker, type RefPlayer } from "../../bench/reference/referenceMatchmaker";
import { connect, CountingClient, type RawClient } from "../../bench/redisProbe";

const prefix = `t-${randomUUID().slice(0, 8)}`;
let raw: RawClient;
let admin: RawClient;

beforeAll(async () => {
  raw = await connect(inject("redisUrl"));
  admin = await connect(inject("redisUrl"));
});
afterAll(async () => {
  await raw.close();
  await admin.close();
});

const players = (n: number, bucket: string, from = 0): RefPlayer[] =>
  Array.from({ length: n }, (_, i) => ({ GUID: `${bucket}-p${from + i}`, Name: `n${from + i}`, MatchmakingSettings: bucket }));

describe("reference port", () => {
  it("groups players into sessions of CapacityMax exactly as BatchAddPlayers does, with 5 round trips per player", async () => {
    const p = `${prefix}-a`;
    const c = new CountingClient(raw);
    const ref = new ReferenceMatchmaker(c, { prefix: p, capacityMax: 4, now: () => 1_700_000_000_000 });
    const res = await ref.addPlayers([...players(10, "gold"), ...players(3, "silver")]);
    await raw.sendCommand(["PING"]);
    expect(res.errors).toEqual([]);
    expect(res.sessionsFilled).toBe(2);
    // DEL player, SDIFF, HGET capacity | DEL new session, SISMEMBER, HSET capacity: 5 awaited calls per player.
    expect(c.roundTrips).toBe(13 * 5);

    const ready = (await admin.sendCommand(["SMEMBERS", `${p}:SessionsReady`])) as string[];
    expect(ready).toHaveLength(2);
    for (const s of ready) {
      expect(await admin.sendCommand(["HGET", `${p}:Session:${s}`, "Capacity"])).toBe("0");
      expect(await admin.sendCommand(["HGET", `${p}:Session:${s}`, "MatchmakingSettings"])).toBe("gold");
      expect(await admin.sendCommand(["SCARD", `${p}:SessionPlayers:${s}`])).toBe(4);
    }
    const gold = (await admin.sendCommand(["SMEMBERS", `${p}:SessionsPerMatchmaking:gold`])) as string[];
    expect(gold).toHaveLength(3); // two full, one with 2 players (Capacity 2)
    const open = gold.find((g) => !ready.includes(g))!;
    expect(await admin.sendCommand(["HGET", `${p}:Session:${open}`, "Capacity"])).toBe("2");
    const silver = (await admin.sendCommand(["SMEMBERS", `${p}:SessionsPerMatchmaking:silver`])) as string[];
    expect(silver).toHaveLength(1);
    expect(await admin.sendCommand(["HGET", `${p}:Session:${silver[0]}`, "Capacity"])).toBe("1");

    // Player hash (ToHashEntryArray of Player) and the timestamp sorted set, in Unix seconds.
    expect(await admin.sendCommand(["HMGET", `${p}:Player:gold-p0`, "GUID", "Name", "MatchmakingSettings"])).toEqual(["gold-p0", "n0", "gold"]);
    expect(await admin.sendCommand(["ZCARD", `${p}:PlayersTimeStartedMatchmaking`])).toBe(13);
    expect(await admin.sendCommand(["ZSCORE", `${p}:PlayersTimeStartedMatchmaking`, "gold-p0"])).toBe("1700000000");
  });

  it("the ready-session timer pops one server per ready session, flushes it, and leaves the rest without a server", async () => {
    const p = `${prefix}-b`;
    const c = new CountingClient(raw);
    const ref = new ReferenceMatchmaker(c, { prefix: p, capacityMax: 2 });
    await ref.addPlayers(players(6, "duel"));
    ref.addServers([
      { serverguid: "s1", serveripandport: "10.0.0.1:7777" },
      { serverguid: "s2", serveripandport: "10.0.0.2:7777" },
    ]);
    await raw.sendCommand(["PING"]);
    const r = await ref.readySessions();
    expect(r.sent).toHaveLength(2);
    expect(r.noServer).toBe(1);
    expect(r.sent.map((s) => s.ServerIPandPort).sort()).toEqual(["10.0.0.1:7777", "10.0.0.2:7777"]);
    for (const s of r.sent) {
      expect(s.GUIDs).toHaveLength(2);
      // FlushSession removed every trace of the session.
      expect(await admin.sendCommand(["EXISTS", `${p}:Session:${s.sessionGUID}`, `${p}:SessionPlayers:${s.sessionGUID}`])).toBe(0);
      expect(await admin.sendCommand(["SISMEMBER", `${p}:SessionsPerMatchmaking:duel`, s.sessionGUID])).toBe(0);
    }
    await raw.sendCommand(["PING"]);
    expect(await admin.sendCommand(["SCARD", `${p}:SessionsReady`])).toBe(1);
    // Servers are popped and never returned (defect 6 of the design notes, kept on purpose).
    expect(await admin.sendCommand(["SCARD", `${p}:ServersAvailable`])).toBe(0);
    expect(await admin.sendCommand(["HLEN", `${p}:Servers`])).toBe(2);
    // Every matched player appears once.
    expect(new Set(r.sent.flatMap((s) => s.GUIDs)).size).toBe(4);

    await ref.flushPlayer("duel-p0");
    await raw.sendCommand(["PING"]);
    expect(await admin.sendCommand(["EXISTS", `${p}:Player:duel-p0`])).toBe(0);
    expect(await admin.sendCommand(["ZSCORE", `${p}:PlayersTimeStartedMatchmaking`, "duel-p0"])).toBeNull();
  });

  it("stops the whole batch at a player without MatchmakingSettings, as the C# `return` does", async () => {
    const p = `${prefix}-c`;
    const ref = new ReferenceMatchmaker(new CountingClient(raw), { prefix: p, capacityMax: 4 });
    await ref.addPlayers([...players(1, "x"), { GUID: "bad", Name: "b", MatchmakingSettings: "" }, ...players(1, "x", 5)]);
    await raw.sendCommand(["PING"]);
    expect(await admin.sendCommand(["EXISTS", `${p}:Player:x-p0`])).toBe(1);
    expect(await admin.sendCommand(["EXISTS", `${p}:Player:x-p5`])).toBe(0);
  });

  it("a session flushed between SDIFF and HGET fails that player like Int32.Parse(null) does, and the batch goes on", async () => {
    expect(int32Parse("3")).toBe(3);
    expect(int32Parse("-1")).toBe(-1);
    expect(() => int32Parse(null)).toThrow(/ArgumentNull/);
    expect(() => int32Parse("NaN")).toThrow(/FormatException/);
    const p = `${prefix}-d`;
    const ref = new ReferenceMatchmaker(new CountingClient(raw), { prefix: p, capacityMax: 4 });
    // A session listed in the bucket whose hash is gone (FlushSession's DEL ran, its SREM not yet).
    await admin.sendCommand(["SADD", `${p}:SessionsPerMatchmaking:x`, "ghost"]);
    const res = await ref.addPlayers(players(2, "x"));
    expect(res.errors).toHaveLength(2);
    expect(await admin.sendCommand(["EXISTS", `${p}:Session:ghost`])).toBe(0);
  });
});
