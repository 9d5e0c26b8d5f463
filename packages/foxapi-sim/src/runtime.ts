import { applyOptions, DEFAULT_CONFIG, type ResolvedConfig, type SimOptions } from './config.js';
import { FaultBook } from './faults.js';
import { OpenRequests } from './open-requests.js';
import { RateCap } from './rate-cap.js';
import { StatsRecorder, type SimStats } from './stats.js';
import { MediaChecker } from './media-check.js';
import { TaskStore, usageOf, type SimTask } from './tasks.js';
import { UploadStore } from './uploads.js';

/** Fault probabilities draw from their own stream, so injecting faults never shifts task draws. */
const FAULT_STREAM = 0x9e3779b9;

/** Everything the routes share: the current config, tasks, counters and held requests. */
export class SimRuntime {
  private current: ResolvedConfig;
  readonly tasks: TaskStore;
  readonly stats = new StatsRecorder();
  readonly faults: FaultBook;
  readonly rateCap: RateCap;
  readonly open = new OpenRequests();
  readonly uploads = new UploadStore(() => this.now());
  readonly media = new MediaChecker();
  /** `http://host:port` once `listen()` resolved; the last fallback for link base URLs. */
  listeningUrl: string | undefined;

  constructor(options: SimOptions) {
    this.current = applyOptions(DEFAULT_CONFIG, options);
    this.tasks = new TaskStore(this.current.seed);
    this.faults = new FaultBook(this.current.faults, faultSeed(this.current.seed));
    this.rateCap = new RateCap(this.current.maxRps);
  }

  get config(): ResolvedConfig {
    return this.current;
  }

  now(): number {
    return this.current.clock();
  }

  /** Applies a runtime patch; a `faults` key re-arms the rules with fresh `times` counts. */
  configure(patch: Partial<SimOptions>): void {
    this.current = applyOptions(this.current, patch);
    if (Object.hasOwn(patch, 'faults')) this.faults.replace(this.current.faults);
    if (Object.hasOwn(patch, 'maxRps')) this.rateCap.setLimit(this.current.maxRps);
    if (Object.hasOwn(patch, 'seed')) this.reseed();
  }

  /** Clears tasks, uploads, counters and the rate window and restarts the RNGs; faults stay armed. */
  reset(): void {
    this.tasks.clear();
    this.uploads.clear();
    this.stats.clear();
    this.rateCap.clear();
    this.reseed();
  }

  /**
   * Fetches the start of each of the task's URLs (each distinct URL once) and fails the files
   * whose URL cannot be read. The task stays `processing` until every fetch has ended.
   */
  checkMedia(task: SimTask): void {
    const timeoutMs = this.current.fetchMediaTimeoutMs;
    const byUrl = new Map<string, Promise<boolean>>();
    task.mediaPending = true;
    const checks = task.fileUrls.map(async (url, index) => {
      let check = byUrl.get(url);
      if (check === undefined) {
        check = this.media.check(url, timeoutMs);
        byUrl.set(url, check);
        void check.then((ok) => this.stats.mediaFetched(ok));
      }
      if (!(await check)) task.failedFiles.add(index);
    });
    void Promise.all(checks).then(() => {
      task.usage = usageOf(task);
      task.mediaPending = false;
    });
  }

  snapshot(): SimStats {
    return this.stats.snapshot(this.tasks.all(), this.now(), this.uploads.usedBytes);
  }

  private reseed(): void {
    this.tasks.reseed(this.current.seed);
    this.faults.reseed(faultSeed(this.current.seed));
  }
}

function faultSeed(seed: number): number {
  return (seed ^ FAULT_STREAM) >>> 0;
}
