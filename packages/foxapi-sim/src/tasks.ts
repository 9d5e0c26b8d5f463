import type { ResultShape } from './config.js';
import { SeededRandom } from './random.js';
import { entryKind } from './entries.js';
import { transcriptionTimes } from './transcripts.js';

export type Model = 'paraformer-v2' | 'paraformer-8k-v2';
export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** What the task ends as; decided at submit from the marker substrings in its file URLs. */
export type TaskOutcome = 'completes' | 'fails' | 'never-ends';

export interface SimTask {
  readonly id: string;
  readonly model: Model;
  readonly fileUrls: readonly string[];
  /**
   * Input indexes whose file fails: the `sim-fail` marker or the `failRate` draw at submit, and
   * with `fetchMedia` the URLs that could not be fetched, added once their fetch ends.
   */
  readonly failedFiles: Set<number>;
  /** Tracks requested per file; each is billed. */
  readonly channels: number;
  /** Media fetches still under way: the task cannot end before upstream has read its files. */
  mediaPending: boolean;
  readonly outcome: TaskOutcome;
  /** Result shape in force at submit; a task's results never change shape between polls. */
  readonly shape: ResultShape;
  /** Default transcript length in force at submit; a file's `sim-minutes=` marker wins over it. */
  readonly transcriptMinutes: number | undefined;
  readonly createdAt: number;
  readonly durationMs: number;
  readonly estimatedTimeS: number;
  readonly creditsReserved: number;
  /** What the task bills once it has completed; a failed task bills nothing. */
  usage: TaskUsage;
  polls: number;
  /** Clock time of the first poll answered with a terminal status. */
  detectedAt: number | null;
}

export interface TaskUsage {
  /** Sum of the source durations of the files transcribed (`original_duration_in_milliseconds`). */
  readonly audioMs: number;
  /**
   * `usage.duration`: upstream bills the speech it judged (`content_duration_in_milliseconds`)
   * of every transcribed file, once per requested track. Rounding is not documented; the
   * simulator rounds the task's total up to whole seconds (a guess).
   */
  readonly billedSeconds: number;
}

export interface TaskState {
  status: TaskStatus;
  progress: number;
}

export interface NewTask {
  model: Model;
  fileUrls: readonly string[];
  /** Number of audio tracks requested per file; each is billed. */
  channels: number;
}

export interface TaskSettings {
  durationMs: { min: number; max: number };
  estimatedTimeNoise: number;
  failRate: number;
  shape: ResultShape;
  transcriptMinutes: number | undefined;
}

/** Share of the duration a task spends `pending` before it turns `processing`. */
const PENDING_SHARE = 0.1;

export class TaskStore {
  private readonly tasks = new Map<string, SimTask>();
  private random: SeededRandom;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  create(input: NewTask, settings: TaskSettings, now: number): SimTask {
    const durationMs = this.random.int(settings.durationMs.min, settings.durationMs.max);
    const task: SimTask = {
      id: this.newId(now),
      model: input.model,
      fileUrls: [...input.fileUrls],
      failedFiles: this.drawFailedFiles(input.fileUrls, settings.failRate),
      outcome: outcomeFor(input.fileUrls),
      shape: settings.shape,
      transcriptMinutes: settings.transcriptMinutes,
      createdAt: now,
      durationMs,
      estimatedTimeS: this.estimate(durationMs, settings.estimatedTimeNoise),
      channels: input.channels,
      mediaPending: false,
      creditsReserved: input.fileUrls.length * input.channels,
      usage: NO_USAGE,
      polls: 0,
      detectedAt: null,
    };
    task.usage = usageOf(task);
    this.tasks.set(task.id, task);
    return task;
  }

  get(id: string): SimTask | undefined {
    return this.tasks.get(id);
  }

  all(): IterableIterator<SimTask> {
    return this.tasks.values();
  }

  clear(): void {
    this.tasks.clear();
  }

  /** Restarts the RNG, so a run after a reset replays the same ids and draws. */
  reseed(seed: number): void {
    this.random = new SeededRandom(seed);
  }

  private newId(now: number): string {
    const unixS = Math.floor(now / 1000);
    for (;;) {
      const id = `task-unified-${unixS}-${this.random.alphanumeric(8)}`;
      if (!this.tasks.has(id)) return id;
    }
  }

  private drawFailedFiles(fileUrls: readonly string[], failRate: number): Set<number> {
    const failed = new Set<number>();
    fileUrls.forEach((url, index) => {
      // Always draw, so one file's marker does not shift the draws of the files after it.
      const unlucky = failRate > 0 && this.random.next() < failRate;
      if (unlucky || url.includes('sim-fail')) failed.add(index);
    });
    return failed;
  }

  private estimate(durationMs: number, noise: number): number {
    const factor = noise === 0 ? 1 : 1 + noise * (2 * this.random.next() - 1);
    return Math.max(1, Math.round((durationMs / 1000) * factor));
  }
}

/** Status and progress of `task` at clock time `now`. */
export function taskStateAt(task: SimTask, now: number): TaskState {
  const elapsed = Math.max(0, now - task.createdAt);
  if (task.mediaPending && elapsed >= task.durationMs) return { status: 'processing', progress: 99 };
  if (task.outcome !== 'never-ends' && elapsed >= task.durationMs) {
    return { status: task.outcome === 'fails' ? 'failed' : 'completed', progress: 100 };
  }
  if (elapsed < task.durationMs * PENDING_SHARE) return { status: 'pending', progress: 0 };
  const share = task.durationMs === 0 ? 1 : elapsed / task.durationMs;
  return { status: 'processing', progress: Math.min(99, Math.max(1, Math.floor(share * 100))) };
}

export function isTerminal(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed';
}

const NO_USAGE: TaskUsage = Object.freeze({ audioMs: 0, billedSeconds: 0 });

/** What `task` bills given the files that failed so far. */
export function usageOf(task: SimTask): TaskUsage {
  if (task.outcome === 'fails') return NO_USAGE;
  let audioMs = 0;
  let speechMs = 0;
  task.fileUrls.forEach((url, index) => {
    if (entryKind(task, index) !== 'succeeded') return;
    const times = transcriptionTimes(url, task.transcriptMinutes);
    audioMs += times.durationMs;
    speechMs += times.speechMs * task.channels;
  });
  return Object.freeze({ audioMs, billedSeconds: Math.ceil(speechMs / 1000) });
}

function outcomeFor(fileUrls: readonly string[]): TaskOutcome {
  if (fileUrls.some((url) => url.includes('sim-never'))) return 'never-ends';
  if (fileUrls.some((url) => url.includes('sim-task-fail'))) return 'fails';
  return 'completes';
}
