/**
 * The simulator's progress line. On a terminal it is redrawn in place four times a second; written to a pipe
 * or a log that turned every redraw into text on one endless line, so there it is a whole line at most every
 * `everyMs` (and the final state is left to the report).
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressWriter {
  /** The current state, one line. */
  update(line: string): void;
  /** Ends an in-place line (a terminal needs the newline; a log already has it). */
  end(): void;
}

export function progressWriter(stream: ProgressStream, label = "", everyMs = 5000, now: () => number = Date.now): ProgressWriter {
  if (stream.isTTY) return { update: (line) => void stream.write(`\r${label}${line}   `), end: () => void stream.write("\n") };
  let last = -Infinity;
  return {
    update: (line) => {
      if (now() - last < everyMs) return;
      last = now();
      stream.write(`${label}${line}\n`);
    },
    end: () => undefined,
  };
}
