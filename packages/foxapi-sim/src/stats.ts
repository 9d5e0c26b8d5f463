import { isTerminal, taskStateAt, type SimTask } from './tasks.js';

export interface SimTaskStats {
  id: string;
  files: number;
  createdAt: number;
  /** Clock time the task reaches its terminal status (for `sim-never` tasks: when it would have). */
  doneAt: number;
  estimatedTimeS: number;
  polls: number;
  /** Clock time of the first poll answered with a terminal status (detection lag = detectedAt - doneAt). */
  detectedAt: number | null;
  status: string;
  /** Source seconds of the files this task transcribed; 0 until it has completed. */
  audioSeconds: number;
  /** `usage.duration` its terminal answer reports; null while it runs. */
  billedSeconds: number | null;
}

export interface SimStats {
  /** Tasks created (including those created by a `createTaskAnyway` fault). */
  submissions: number;
  /** File URL → times it was part of a created task. */
  submittedUrls: Record<string, number>;
  /** Sum over URLs of max(0, count - 1). */
  duplicateSubmissions: number;
  /** Polls answered with a task (200); equals the sum of `pollsByTask`. */
  polls: number;
  pollsByTask: Record<string, number>;
  /** Transcription downloads answered with 200. */
  downloads: number;
  /** Requests to the transcription route that carried an Authorization header (should stay 0). */
  downloadsWithAuth: number;
  /** Every HTTP request on `/v1/*`. */
  requests: number;
  /** `/v1/*` requests by answered status; `"0"` counts requests a hang fault left unanswered. */
  byStatus: Record<string, number>;
  /** 429s answered, by the rate cap or by a fault. */
  rateLimited: number;
  /** Requests answered (or hung) by an injected fault. */
  faultsInjected: number;
  /**
   * Source seconds (`original_duration_in_milliseconds` / 1000) of every file transcribed by a
   * task completed by now; what batchscribe reports as `audio_seconds`.
   */
  audioSecondsTranscribed: number;
  /** Sum of `usage.duration` over tasks completed by now; what batchscribe reports as `billed_seconds`. */
  billedSeconds: number;
  /** Files accepted by the upload endpoints. */
  uploads: number;
  /** Bytes the upload store holds now (after evictions and expiries). */
  uploadStorageBytes: number;
  /** Distinct media URLs per task fetched with `fetchMedia` on. */
  mediaFetches: number;
  /** Of those, the ones that did not answer 200 or 206 in time (their files failed). */
  mediaFetchFailures: number;
  tasks: SimTaskStats[];
}

/** Counters that are not derivable from the task store. All bounded: no per-request log. */
export class StatsRecorder {
  private submissions = 0;
  private readonly submittedUrls = new Map<string, number>();
  private polls = 0;
  private downloads = 0;
  private downloadsWithAuth = 0;
  private requests = 0;
  private readonly byStatus = new Map<number, number>();
  private rateLimited = 0;
  private faultsInjected = 0;
  private uploads = 0;
  private mediaFetches = 0;
  private mediaFetchFailures = 0;

  taskCreated(task: SimTask): void {
    this.submissions += 1;
    for (const url of task.fileUrls) this.submittedUrls.set(url, (this.submittedUrls.get(url) ?? 0) + 1);
  }

  pollAnswered(): void {
    this.polls += 1;
  }

  downloadAnswered(): void {
    this.downloads += 1;
  }

  downloadCarriedAuth(): void {
    this.downloadsWithAuth += 1;
  }

  apiRequestReceived(): void {
    this.requests += 1;
  }

  apiRequestAnswered(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  rateLimitAnswered(): void {
    this.rateLimited += 1;
  }

  faultInjected(): void {
    this.faultsInjected += 1;
  }

  uploadStored(): void {
    this.uploads += 1;
  }

  mediaFetched(ok: boolean): void {
    this.mediaFetches += 1;
    if (!ok) this.mediaFetchFailures += 1;
  }

  clear(): void {
    this.submissions = 0;
    this.submittedUrls.clear();
    this.polls = 0;
    this.downloads = 0;
    this.downloadsWithAuth = 0;
    this.requests = 0;
    this.byStatus.clear();
    this.rateLimited = 0;
    this.faultsInjected = 0;
    this.uploads = 0;
    this.mediaFetches = 0;
    this.mediaFetchFailures = 0;
  }

  snapshot(tasks: Iterable<SimTask>, now: number, uploadStorageBytes: number): SimStats {
    const taskStats: SimTaskStats[] = [];
    const pollsByTask: Record<string, number> = {};
    let audioMs = 0;
    let billedSeconds = 0;
    for (const task of tasks) {
      pollsByTask[task.id] = task.polls;
      const status = taskStateAt(task, now).status;
      const completed = status === 'completed';
      if (completed) {
        audioMs += task.usage.audioMs;
        billedSeconds += task.usage.billedSeconds;
      }
      taskStats.push({
        id: task.id,
        files: task.fileUrls.length,
        createdAt: task.createdAt,
        doneAt: task.createdAt + task.durationMs,
        estimatedTimeS: task.estimatedTimeS,
        polls: task.polls,
        detectedAt: task.detectedAt,
        status,
        audioSeconds: completed ? task.usage.audioMs / 1000 : 0,
        billedSeconds: isTerminal(status) ? (completed ? task.usage.billedSeconds : 0) : null,
      });
    }
    let duplicateSubmissions = 0;
    for (const count of this.submittedUrls.values()) duplicateSubmissions += Math.max(0, count - 1);
    return {
      submissions: this.submissions,
      submittedUrls: Object.fromEntries(this.submittedUrls),
      duplicateSubmissions,
      polls: this.polls,
      pollsByTask,
      downloads: this.downloads,
      downloadsWithAuth: this.downloadsWithAuth,
      requests: this.requests,
      byStatus: Object.fromEntries([...this.byStatus].map(([status, count]) => [String(status), count])),
      rateLimited: this.rateLimited,
      faultsInjected: this.faultsInjected,
      audioSecondsTranscribed: audioMs / 1000,
      billedSeconds,
      uploads: this.uploads,
      uploadStorageBytes,
      mediaFetches: this.mediaFetches,
      mediaFetchFailures: this.mediaFetchFailures,
      tasks: taskStats,
    };
  }
}
