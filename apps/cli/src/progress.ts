import cliProgress from 'cli-progress';
import type { Job } from './api/schemas.js';
import { EtaEstimator, formatDuration } from './eta.js';
import type { CliIo } from './io.js';
import { isTerminalStatus } from './exit-codes.js';
import { filesDone, progressLine } from './job-format.js';

/** Shows a job's progress while `submit --wait`, `watch`, `retry --wait` or `cancel --wait` waits. */
export interface ProgressReporter {
  update(job: Job): void;
  /** Clears the live bar (if any) so the next line prints cleanly. */
  stop(): void;
}

type ProgressIo = Pick<CliIo, 'stderr' | 'now' | 'progressIntervalMs'>;

/** A live bar on a terminal, periodic one-line updates in logs and pipes, or nothing. */
export function createProgressReporter(io: ProgressIo, enabled: boolean): ProgressReporter {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  return io.stderr.isTTY ? new BarReporter(io) : new LineReporter(io);
}

const BAR_FORMAT =
  '{bar} {percentage}% | {value}/{total} files | {completed} completed, {failed} failed, {cancelled} cancelled | {status} | ETA {timeLeft}';

class BarReporter implements ProgressReporter {
  private readonly eta = new EtaEstimator();
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(private readonly io: ProgressIo) {
    // linewrap: true clips the bar to the terminal width without switching autowrap off (which
    // Ctrl-C would leave off); the cursor stays visible for the same reason.
    this.bar = new cliProgress.SingleBar(
      { stream: io.stderr, format: BAR_FORMAT, barsize: 24, fps: 4, hideCursor: false, clearOnComplete: false, linewrap: true },
      cliProgress.Presets.shades_classic,
    );
  }

  update(job: Job): void {
    const done = filesDone(job);
    this.eta.add(this.io.now(), done, job.counts.total);
    const payload = { ...job.counts, status: job.status, timeLeft: formatDuration(this.eta.secondsLeft(this.io.now())) };
    if (!this.started) {
      this.bar.start(job.counts.total, done, payload);
      this.started = true;
      return;
    }
    this.bar.setTotal(job.counts.total);
    this.bar.update(done, payload);
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

/** Without a terminal a redrawn bar would be noise: one line when the status changes, else at most every interval. */
class LineReporter implements ProgressReporter {
  private readonly eta = new EtaEstimator();
  private last: { at: number; status: string; done: number } | undefined;

  constructor(private readonly io: ProgressIo) {}

  update(job: Job): void {
    const now = this.io.now();
    const done = filesDone(job);
    this.eta.add(now, done, job.counts.total);
    // The command prints how the job ended; a progress line for it would say the same.
    if (isTerminalStatus(job.status)) return;
    const last = this.last;
    const due =
      last === undefined ||
      job.status !== last.status ||
      (now - last.at >= this.io.progressIntervalMs && done !== last.done) ||
      now - last.at >= this.io.progressIntervalMs * 6;
    if (!due) return;
    this.io.stderr.write(`${progressLine(job, formatDuration(this.eta.secondsLeft(now)))}\n`);
    this.last = { at: now, status: job.status, done };
  }

  stop(): void {}
}
