/**
 * Timer triggers on their NCRONTAB schedules (6 fields, seconds first), run by croner.
 *
 * As on the host: one run of a timer at a time (a tick that comes while the previous run is still going is
 * skipped), `runOnStartup` honoured, and the handler receives the host's timer object
 * `{Schedule, ScheduleStatus: {Last, Next, LastUpdated}, IsPastDue}` (the library camelCases it).
 */
import { Cron } from "croner";
import type { Invoker } from "./invoker";

export interface TimerSpec {
  functionName: string;
  schedule: string;
  runOnStartup?: boolean;
}

/**
 * Throws a clear start-up error for a schedule the host would refuse. croner parses it (fields, ranges,
 * steps, names); NCRONTAB also requires the seconds field, which croner treats as optional.
 */
export function validateSchedule(functionName: string, schedule: string): void {
  let problem: string | undefined;
  try {
    new Cron(schedule, { paused: true }).stop();
    if (schedule.trim().split(/\s+/).length !== 6) problem = "NCRONTAB needs 6 fields, seconds first (e.g. */2 * * * * *)";
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) throw new Error(`Timer function ${functionName}: schedule ${JSON.stringify(schedule)} is not a valid NCRONTAB expression: ${problem}`);
}

export class LocalTimers {
  private readonly jobs: { spec: TimerSpec; cron: Cron; running: Promise<void> | undefined; last: Date | undefined }[] = [];
  readonly runs = new Map<string, number>();
  readonly skipped = new Map<string, number>();

  constructor(
    private readonly invoker: Invoker,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  add(spec: TimerSpec): void {
    validateSchedule(spec.functionName, spec.schedule);
    // Paused until start(), so registering timers has no side effects.
    const job = { spec, cron: undefined as unknown as Cron, running: undefined as Promise<void> | undefined, last: undefined as Date | undefined };
    job.cron = new Cron(spec.schedule, { paused: true }, () => this.fire(job));
    this.jobs.push(job);
  }

  start(): void {
    for (const job of this.jobs) {
      job.cron.resume();
      if (job.spec.runOnStartup) this.fire(job);
    }
  }

  /** Runs a timer now (tests, and `runOnStartup`); resolves when that run ends. */
  async trigger(functionName: string): Promise<void> {
    const job = this.jobs.find((j) => j.spec.functionName === functionName);
    if (!job) throw new Error(`No timer function "${functionName}"`);
    if (job.running) await job.running;
    this.fire(job);
    await job.running;
  }

  private fire(job: (typeof this.jobs)[number]): void {
    const name = job.spec.functionName;
    if (job.running) {
      this.skipped.set(name, (this.skipped.get(name) ?? 0) + 1);
      return;
    }
    const now = new Date();
    const timer = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: (job.last ?? new Date(0)).toISOString(),
        Next: (job.cron.nextRun() ?? now).toISOString(),
        LastUpdated: now.toISOString(),
      },
      IsPastDue: false,
    };
    job.last = now;
    const trigger = this.invoker.core.get(name).trigger.name;
    job.running = (async () => {
      try {
        await this.invoker.invoke(name, { inputData: [{ name: trigger, data: { json: JSON.stringify(timer) } }] });
      } catch (err) {
        this.log(`[${name}] timer run failed: ${(err as Error).message}`);
      } finally {
        this.runs.set(name, (this.runs.get(name) ?? 0) + 1);
        job.running = undefined;
      }
    })();
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const job of this.jobs) job.cron.stop();
    await Promise.all(this.jobs.map((j) => j.running));
  }
}
