/**
 * The sweeper runs every second; the scale-out warning was written on every sweep while servers were short.
 * It is now written when a region's shortage starts or changes size, repeated once a minute while it stays
 * the same, and ended by one line.
 */
import { expect, it } from "vitest";
import type { AssignResult } from "../../src/store/types";
import { SCALE_OUT_REPEAT_MS, scaleOutSignal } from "../../src/usecases/scaleOut";

const result = (region: string, unassignedSessions: number): AssignResult => ({
  region,
  assigned: [],
  unassignedSessions,
  unassignedByMode: unassignedSessions ? { duel: unassignedSessions } : {},
  serversAvailable: 0,
});

it("warns when a shortage starts or changes, once a minute while it lasts, per region and app, and says when it is over", () => {
  const lines: string[] = [];
  const log = { warn: (m: string) => lines.push(`warn ${m}`), log: (m: string) => lines.push(`info ${m}`) };
  const app = {};
  let now = 1_000_000;
  const sweep = (region: string, n: number) => scaleOutSignal(log, result(region, n), app, (now += 1000));

  expect(sweep("eastus", 2)).toMatch(/^scale-out: 2 full session\(s\) in eastus/);
  for (let i = 0; i < 30; i++) expect(sweep("eastus", 2)).toBeUndefined();
  expect(sweep("westus", 2)).toMatch(/in westus/); // another region has its own throttle
  expect(sweep("eastus", 3)).toMatch(/^scale-out: 3 full/); // the size changed
  now += SCALE_OUT_REPEAT_MS;
  expect(sweep("eastus", 3)).toMatch(/^scale-out: 3 full/); // a minute later, the same shortage again
  expect(scaleOutSignal(log, result("eastus", 3), {}, now)).toMatch(/^scale-out: 3/); // another app instance
  expect(sweep("eastus", 0)).toBeUndefined();
  expect(sweep("eastus", 0)).toBeUndefined();
  expect(sweep("eastus", 1)).toMatch(/^scale-out: 1 full/); // a new shortage starts at once

  expect(lines.filter((l) => l.startsWith("warn")).length).toBe(6);
  expect(lines.filter((l) => l.startsWith("info"))).toEqual(["info scale-out over: no full session in eastus waits for a game server any more"]);
});
