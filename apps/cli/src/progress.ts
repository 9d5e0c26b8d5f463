import cliProgress from 'cli-progress';
import type { Job } from './api/schemas.js';
import { EtaEstimator, formatDuration } from './eta.js';
import type { CliIo } from './io.js';
import { isTerminalStatus } from './exit-codes.js';
import { filesEnded, progressLine, whereFilesAre } from './job-format.js';

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

const BAR_WIDTH = 24;

/** The bar's glyphs, left to right: transcribed, failed or cancelled, submitted to foxapi, queued. */
export const BAR_GLYPHS = { transcribed: '█', unsuccessful: 'x', submitted: '▒', queued: '░' } as const;

/**
 * A bar of segments: transcribed, then failed and cancelled, then submitted (at foxapi, being
 * transcribed), then queued. On a large job the first minutes are spent submitting, so the
 * submitted segment is what moves then; ended files that were not transcribed are drawn apart
 * from those that were, never as progress.
 */
export function segmentedBar(counts: Job['counts'], width = BAR_WIDTH): string {
  const parts: Array<[number, string]> = [
    [counts.completed, BAR_GLYPHS.transcribed],
    [counts.failed + counts.cancelled, BAR_GLYPHS.unsuccessful],
    [counts.submitted, BAR_GLYPHS.submitted],
    [counts.queued, BAR_GLYPHS.queued],
  ];
  if (counts.total <= 0) return BAR_GLYPHS.queued.repeat(width);
  // Cumulative rounding: the segments always add up to the width exactly.
  let out = '';
  let sum = 0;
  let drawn = 0;
  for (const [n, glyph] of parts) {
    sum += n;
    const upTo = Math.min(width, Math.round((sum / counts.total) * width));
    out += glyph.repeat(Math.max(0, upTo - drawn));
    drawn = Math.max(drawn, upTo);
  }
  return out + BAR_GLYPHS.queued.repeat(width - drawn);
}

/**
 * A one-line bar whose whole line the caller writes (payload `line`). linewrap: true clips it to
 * the terminal width without switching autowrap off (which Ctrl-C would leave off); the cursor
 * stays visible for the same reason. cli-progress redraws and throttles.
 */
export function lineBar(stream: NodeJS.WritableStream, opts: { clearOnComplete: boolean }): cliProgress.SingleBar {
  return new cliProgress.SingleBar({
    stream,
    format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
    fps: 4,
    hideCursor: false,
    clearOnComplete: opts.clearOnComplete,
    linewrap: true,
  });
}

class BarReporter implements ProgressReporter {
  private readonly eta = new EtaEstimator();
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(private readonly io: ProgressIo) {
    this.bar = lineBar(io.stderr, { clearOnComplete: false });
  }

  update(job: Job): void {
    const done = filesEnded(job);
    this.eta.add(this.io.now(), done, job.counts.total);
    const eta = formatDuration(this.eta.secondsLeft(this.io.now()));
    const payload = { line: `${segmentedBar(job.counts)} ${whereFilesAre(job)} | ${job.status} | ETA ${eta}` };
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
  private last: { at: number; status: string; where: string } | undefined;

  constructor(private readonly io: ProgressIo) {}

  update(job: Job): void {
    const now = this.io.now();
    // Submitted files count as a change too: on a large job they move long before any ends.
    const where = whereFilesAre(job);
    this.eta.add(now, filesEnded(job), job.counts.total);
    // The command prints how the job ended; a progress line for it would say the same.
    if (isTerminalStatus(job.status)) return;
    const last = this.last;
    const due =
      last === undefined ||
      job.status !== last.status ||
      (now - last.at >= this.io.progressIntervalMs && where !== last.where) ||
      now - last.at >= this.io.progressIntervalMs * 6;
    if (!due) return;
    this.io.stderr.write(`${progressLine(job, formatDuration(this.eta.secondsLeft(now)))}\n`);
    this.last = { at: now, status: job.status, where };
  }

  stop(): void {}
}
