import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What a watcher of one job is told. */
export interface JobWatcher {
  /** The job may have changed: read it again. */
  changed(): void;
  /** The hub is closing (the process drains): end the stream. */
  closed(): void;
}

/**
 * Fans the `jobEvents` pub/sub channel (message = job id) out to the streams watching each
 * job: one Redis subscriber connection per api process however many streams are open, and
 * no stream polls Redis on its own.
 */
export class JobEventsHub {
  private readonly watchers = new Map<string, Set<JobWatcher>>();
  private closing = false;

  /**
   * @param subscriber a connection for this hub alone (a subscribed connection can do nothing
   *   else), built by the composition root, which also quits it.
   */
  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  private readonly onMessage = (channel: string, jobId: string) => {
    if (channel !== this.channel) return;
    for (const w of this.watchers.get(jobId) ?? []) w.changed();
  };

  /** Messages published while the connection was down are lost: every stream reads again. */
  private readonly onReady = () => {
    for (const set of this.watchers.values()) for (const w of set) w.changed();
  };

  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    await this.subscriber.subscribe(this.channel);
    this.logger.debug({ channel: this.channel }, 'job events hub subscribed');
  }

  /** Returns the function that stops watching. */
  watch(jobId: string, watcher: JobWatcher): () => void {
    if (this.closing) {
      queueMicrotask(() => watcher.closed());
      return () => undefined;
    }
    let set = this.watchers.get(jobId);
    if (!set) this.watchers.set(jobId, (set = new Set()));
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(jobId) === set) this.watchers.delete(jobId);
    };
  }

  /** Open streams, for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Ends every stream and unsubscribes; the caller quits the connection afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    for (const set of [...this.watchers.values()]) for (const w of [...set]) w.closed();
    this.watchers.clear();
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
