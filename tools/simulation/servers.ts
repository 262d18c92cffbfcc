/**
 * The simulated game-server fleet: registers through PUT /api/servers/{id} (function key), heartbeats, and
 * when players report a session on a server, "plays" it for `gameMs` and releases itself.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpCall } from "./http";

export interface Fleet {
  ids: string[];
  /** Registers every server now; throws if one is refused. */
  registerAll(): Promise<void>;
  /** Heartbeats every `heartbeatMs` (first registering after `delayMs` when given) until `stop`. */
  startHeartbeats(o: { heartbeatMs: number; delayMs?: number }): void;
  /** A player saw `sessionId` on `serverId`: the game runs, then the server releases itself (once per session). */
  onSession(serverId: string, sessionId: string): void;
  /** Stops heartbeating, waits for running games, deregisters (unless told not to). */
  stop(o: { deregister: boolean }): Promise<void>;
  releases(): number;
  /** Why a delayed registration failed, if it did. */
  registrationError(): Error | undefined;
}

export function fleet(o: { call: HttpCall; count: number; regions: string[]; idPrefix: string; gameMs: number }): Fleet {
  const ids = Array.from({ length: o.count }, (_, i) => `${o.idPrefix}srv${i}`);
  const regionOf = (i: number) => o.regions[i % o.regions.length]!;
  const addressOf = (i: number) => `127.0.0.1:${30000 + i}`;
  const released = new Set<string>();
  const games: Promise<void>[] = [];
  let releases = 0;
  let stopped = false;
  let registrationError: Error | undefined;
  let heartbeats: Promise<void> = Promise.resolve();

  const registerAll = async (): Promise<void> => {
    await Promise.all(
      ids.map(async (id, i) => {
        const r = await o.call("servers", "PUT", `/api/servers/${id}`, { body: { address: addressOf(i), region: regionOf(i) }, withKey: true });
        if (r.status >= 300) throw new Error(`PUT /api/servers/${id} answered ${r.status}: ${JSON.stringify(r.json)}`);
      }),
    );
  };
  return {
    ids,
    registerAll,
    startHeartbeats({ heartbeatMs, delayMs }) {
      heartbeats = (async () => {
        if (delayMs) {
          await sleep(delayMs);
          await registerAll().catch((err: Error) => (registrationError = err));
        }
        while (!stopped) {
          await sleep(heartbeatMs);
          if (!stopped) await registerAll().catch(() => undefined);
        }
      })().catch(() => undefined);
    },
    onSession(serverId, sessionId) {
      if (released.has(sessionId)) return;
      released.add(sessionId);
      const i = Math.max(0, ids.indexOf(serverId));
      games.push(
        (async () => {
          await sleep(o.gameMs);
          const r = await o.call("servers", "POST", `/api/servers/${serverId}/release?region=${regionOf(i)}`, { body: { sessionId }, withKey: true });
          if (r.status < 300) releases++;
        })().catch(() => undefined),
      );
    },
    async stop({ deregister }) {
      stopped = true;
      await Promise.all(games);
      if (deregister)
        await Promise.all(
          ids.map((id, i) => o.call("servers", "DELETE", `/api/servers/${id}?region=${regionOf(i)}`, { withKey: true }).catch(() => undefined)),
        );
      // The heartbeat loop ends at its next wake-up; nobody needs to wait for that.
      void heartbeats;
    },
    releases: () => releases,
    registrationError: () => registrationError,
  };
}
