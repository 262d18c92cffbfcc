/**
 * The reference's Redis access pattern, ported call for call so the bench can measure it on the same Redis.
 *
 * Mirrors Microsoft's "Multiplayer Serverless Matchmaker" sample (github.com/Azure-Samples/gaming-serverless-matchmaker,
 * C#, StackExchange.Redis), files:
 *   - src/BatchAddPlayers.cs   -> addPlayers()        (Event Hub triggered, one batch of players)
 *   - src/BatchReadySession.cs -> readySessions()     (timer: RunTimerTrigger + FlushSession)
 *   - src/AddServer.cs         -> addServers()        (HTTP: addServer command)
 *   - src/MatchRequest.cs      -> flushPlayer()       (FlushPlayer activity, run after the match)
 *   - src/Constants.cs         -> key names below     (CapacityMax is a parameter here instead of the constant 4)
 *
 * How the C# calls map:
 *   - synchronous calls (cache.KeyDelete, cache.HashGet, cache.SetCombine, cache.SetContains, cache.HashSet
 *     without flags, cache.SetPop, cache.SetScan pages) block until the reply: `await r.call(...)`, one round trip each;
 *   - CommandFlags.FireAndForget calls, and the *Async calls FlushSession never awaits: `r.send(...)`, written to
 *     the socket with the next flush, reply ignored (what StackExchange.Redis's multiplexer does with them);
 *   - cache.SetScan(key) iterates SSCAN pages of 250 (StackExchange.Redis's library page size), lazily;
 *   - the players of one batch are processed one after another (the C# foreach awaits each step).
 * Left out, because they are not Redis: the Durable StartNewAsync per player (BatchAddPlayers) and the Event Hub
 * SendAsync per session (BatchReadySession); the bench measures Redis work only, for both designs alike.
 * Added: a key prefix (so runs don't collide); it changes no call. Defects are kept on purpose (read-modify-write
 * of Capacity races between concurrent consumers; servers are popped and never returned).
 */
import { randomUUID } from "node:crypto";
import type { CountingClient } from "../redisProbe";

export const REF_KEYS = {
  ServersHash: "Servers",
  ServersAvailableSet: "ServersAvailable",
  PlayerHash: "Player",
  PlayerTimestampsSortedSet: "PlayersTimeStartedMatchmaking",
  SessionHash: "Session",
  SessionPlayersSet: "SessionPlayers",
  SessionsReadySet: "SessionsReady",
  SessionsPerMatchmakingSet: "SessionsPerMatchmaking",
  CapacityField: "Capacity",
  MatchmakingSettingsField: "MatchmakingSettings",
} as const;

/** The reference's Player message (Constants.cs `Player`). */
export interface RefPlayer {
  GUID: string;
  Name: string;
  MatchmakingSettings: string;
}

/** What the timer would send to the `match-made` hub for one session (SessionReadyMessage). */
export interface RefSessionReady {
  sessionGUID: string;
  GUIDs: string[];
  ServerIPandPort: string;
}

export interface RefAddResult {
  /** Sessions that reached Capacity 0 in this batch. */
  sessionsFilled: number;
  errors: unknown[];
}

/**
 * Int32.Parse(RedisValue): throws on a missing value (the session was flushed meanwhile) or a non-integer,
 * which the C# catch block records for that player before moving on to the next.
 */
export function int32Parse(v: unknown): number {
  if (v === null || v === undefined) throw new Error("ArgumentNullException: Value cannot be null");
  const s = String(v).trim();
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`FormatException: Input string '${s}' was not in a correct format`);
  return Number(s);
}

export class ReferenceMatchmaker {
  constructor(
    private readonly r: CountingClient,
    private readonly opts: { prefix: string; capacityMax: number; now?: () => number },
  ) {}

  private key(...parts: string[]): string {
    return `${this.opts.prefix}:${parts.join(":")}`;
  }

  /** BatchAddPlayers.Run: for each event, the reference's per-player read-modify-write. */
  async addPlayers(players: RefPlayer[]): Promise<RefAddResult> {
    const r = this.r;
    const errors: unknown[] = [];
    let sessionsFilled = 0;
    for (const tempPlayer of players) {
      try {
        const playerGUID = tempPlayer.GUID;
        const playerMatchmaking = tempPlayer.MatchmakingSettings;
        // (The C# `return`s out of the whole batch here; kept.)
        if (!playerMatchmaking) return { sessionsFilled, errors };

        // (StartNewAsync("MatchRequest", playerGUID) - Durable, not Redis: left out.)

        // Flush existing key
        const playerKey = this.key(REF_KEYS.PlayerHash, playerGUID);
        await r.call(["DEL", playerKey]);

        // Create player Hash (ToHashEntryArray: every non-null property)
        r.send(["HSET", playerKey, "GUID", tempPlayer.GUID, "Name", tempPlayer.Name, "MatchmakingSettings", tempPlayer.MatchmakingSettings]);

        // Add timestamp to the PlayersTimeStartedMatchmaking Sorted Set (Unix seconds)
        const nowSeconds = Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
        r.send(["ZADD", this.key(REF_KEYS.PlayerTimestampsSortedSet), String(nowSeconds), playerGUID]);

        // SDIFF SessionsPerMatchmaking:<bucket> SessionsReady -> a session that is not full
        const keySessionsPerMatchmaking = this.key(REF_KEYS.SessionsPerMatchmakingSet, playerMatchmaking);
        let sessionGUID: string;
        let capacity: number;
        const results = (await r.call(["SDIFF", keySessionsPerMatchmaking, this.key(REF_KEYS.SessionsReadySet)])) as string[];
        if (results && results.length > 0) {
          sessionGUID = String(results[0]); // results.First()
          const sessionKey = this.key(REF_KEYS.SessionHash, sessionGUID);
          capacity = int32Parse(await r.call(["HGET", sessionKey, REF_KEYS.CapacityField]));
        } else {
          // Create session
          sessionGUID = randomUUID();
          const sessionKey = this.key(REF_KEYS.SessionHash, sessionGUID);
          await r.call(["DEL", sessionKey]);
          // Session{GUID, Capacity = CapacityMax, MatchmakingSettings}.ToHashEntryArray()
          r.send(["HSET", sessionKey, "GUID", sessionGUID, "Capacity", String(this.opts.capacityMax), "MatchmakingSettings", playerMatchmaking]);
          r.send(["SADD", keySessionsPerMatchmaking, sessionGUID]);
          capacity = this.opts.capacityMax;
        }

        // Add player to the game session
        const sessionPlayersKey = this.key(REF_KEYS.SessionPlayersSet, sessionGUID);
        if (!Number(await r.call(["SISMEMBER", sessionPlayersKey, playerGUID]))) {
          r.send(["SADD", sessionPlayersKey, playerGUID]);
        }

        // Update the capacity for the session (read-modify-write: the race the design notes call defect 1)
        capacity--;
        await r.call(["HSET", this.key(REF_KEYS.SessionHash, sessionGUID), REF_KEYS.CapacityField, String(capacity)]);

        if (capacity === 0) {
          r.send(["SADD", this.key(REF_KEYS.SessionsReadySet), sessionGUID]);
          sessionsFilled++;
        }
      } catch (e) {
        errors.push(e);
      }
    }
    return { sessionsFilled, errors };
  }

  /**
   * BatchReadySession.RunTimerTrigger: scan SessionsReady; per session pop a server, read its address, read the
   * session's players, (send to Event Hub - left out), FlushSession. Returns what would have been sent.
   */
  async readySessions(): Promise<{ sent: RefSessionReady[]; noServer: number }> {
    const r = this.r;
    const sent: RefSessionReady[] = [];
    let noServer = 0;
    for await (const sessionGUID of this.setScan(this.key(REF_KEYS.SessionsReadySet))) {
      const popped = await r.call(["SPOP", this.key(REF_KEYS.ServersAvailableSet)]);
      if (popped !== null && popped !== undefined && String(popped) !== "") {
        const serverIPandPort = String(await r.call(["HGET", this.key(REF_KEYS.ServersHash), String(popped)]));
        const setPlayers: string[] = [];
        for await (const p of this.setScan(this.key(REF_KEYS.SessionPlayersSet, sessionGUID))) setPlayers.push(p);
        // (await ehSessionReady.SendAsync(...) - Event Hub, not Redis: left out.)
        sent.push({ sessionGUID, GUIDs: setPlayers, ServerIPandPort: serverIPandPort });
        await this.flushSession(sessionGUID);
      } else {
        noServer++; // "No servers available, cue to scale out request here..."
      }
    }
    return { sent, noServer };
  }

  /** BatchReadySession.FlushSession (called directly, not as an activity, in the sample). */
  async flushSession(sessionGUID: string): Promise<void> {
    const r = this.r;
    r.send(["SREM", this.key(REF_KEYS.SessionsReadySet), sessionGUID]); // SetRemoveAsync, not awaited
    const sessionKey = this.key(REF_KEYS.SessionHash, sessionGUID);
    const matchmakingBucket = String(await r.call(["HGET", sessionKey, REF_KEYS.MatchmakingSettingsField]));
    r.send(["SREM", this.key(REF_KEYS.SessionsPerMatchmakingSet, matchmakingBucket), sessionGUID]); // not awaited
    await r.call(["DEL", sessionKey]);
    await r.call(["DEL", this.key(REF_KEYS.SessionPlayersSet, sessionGUID)]);
  }

  /** MatchRequest.FlushPlayer activity (after the orchestrator got its server or timed out). */
  async flushPlayer(playerGUID: string): Promise<void> {
    await this.r.call(["DEL", this.key(REF_KEYS.PlayerHash, playerGUID)]);
    this.r.send(["ZREM", this.key(REF_KEYS.PlayerTimestampsSortedSet), playerGUID]);
  }

  /** AddServer.Run with command "addServer". */
  addServers(servers: { serverguid: string; serveripandport: string }[]): void {
    for (const s of servers) {
      this.r.send(["HSET", this.key(REF_KEYS.ServersHash), s.serverguid, s.serveripandport]);
      this.r.send(["SADD", this.key(REF_KEYS.ServersAvailableSet), s.serverguid]);
    }
  }

  /** IDatabase.SetScan: SSCAN pages of 250, fetched lazily as the caller iterates. */
  private async *setScan(key: string): AsyncGenerator<string> {
    let cursor = "0";
    do {
      const reply = (await this.r.call(["SSCAN", key, cursor, "COUNT", "250"])) as [string, string[]];
      cursor = String(reply[0]);
      for (const m of reply[1]) yield String(m);
    } while (cursor !== "0");
  }
}
