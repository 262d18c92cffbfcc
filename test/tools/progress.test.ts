/** The simulator's progress: redrawn in place on a terminal, whole lines at most every few seconds in a log. */
import { expect, it } from "vitest";
import { progressWriter } from "../../tools/simulation/progress";

it("redraws one line on a terminal and writes a whole line at most every interval to a pipe", () => {
  const tty: string[] = [];
  const t = progressWriter({ isTTY: true, write: (s: string) => tty.push(s) }, "run: ");
  t.update("a");
  t.update("b");
  t.end();
  expect(tty).toEqual(["\rrun: a   ", "\rrun: b   ", "\n"]);

  const log: string[] = [];
  let now = 0;
  const p = progressWriter({ write: (s: string) => log.push(s) }, "run: ", 5000, () => now);
  for (; now < 12_000; now += 250) p.update(`at ${now}`);
  p.end();
  expect(log).toEqual(["run: at 0\n", "run: at 5000\n", "run: at 10000\n"]);
});
