import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TERMINAL_JOB_STATUSES, type Job, type JobReader } from '@batchscribe/shared';
import type { JobEventsHub } from './job-events.hub.js';

export interface JobEventStreamOptions {
  /** Comment line sent this often so proxies and clients see a live connection; default 15 s. */
  heartbeatMs?: number;
  /** At most one `job` event per this interval (at most ~2/s); default 500 ms. */
  minIntervalMs?: number;
  /** A reader that has not drained the socket for this long is disconnected; default 4 heartbeats. */
  stallMs?: number;
}

/**
 * One Server-Sent Events stream of one job. A change notice from the hub marks the stream
 * dirty; the job is read (one HGETALL) at most once per interval, and sent only if it differs
 * from what was sent last. The first event is the current state; the stream ends with the
 * final state as `job`, then as `end`.
 *
 * A slow reader gets the latest Job, not a growing queue: while the socket has not drained,
 * nothing more is written (no event, no heartbeat), changes only mark the stream dirty, and
 * once it drains the job is read afresh, so at most one event is ever buffered in this
 * process. A reader that does not drain for `stallMs` is disconnected.
 */
export function streamJobEvents(
  res: ServerResponse,
  deps: { jobId: string; tenant: string; reader: JobReader; hub: JobEventsHub; log: Logger },
  opts: JobEventStreamOptions = {},
): void {
  const minIntervalMs = opts.minIntervalMs ?? 500;
  let lastSentAt = 0;
  let lastBody = '';
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let dirty = false;
  let ended = false;
  /** When the socket last refused more (write returned false); undefined while it drains freely. */
  let blockedSince: number | undefined;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const stallMs = opts.stallMs ?? 4 * heartbeatMs;

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx and similar proxies buffer responses unless told not to: events would arrive in bursts.
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.flushHeaders();

  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    clearInterval(heartbeat);
    unwatch();
    res.end();
  };
  const write = (chunk: string) => {
    if (res.write(chunk) || blockedSince !== undefined) return;
    blockedSince = Date.now();
    res.once('drain', () => {
      blockedSince = undefined;
      if (dirty) schedule();
    });
  };
  const send = (event: string, body: string) => write(`event: ${event}\ndata: ${body}\n\n`);

  const flush = async () => {
    if (ended) return;
    if (blockedSince !== undefined) {
      dirty = true;
      return;
    }
    reading = true;
    dirty = false;
    try {
      const job = await deps.reader.getJob(deps.jobId, deps.tenant);
      if (ended) return;
      // Deleted or expired while watched: nothing more will come.
      if (!job) return end();
      const body = JSON.stringify(job);
      if (body !== lastBody) {
        send('job', body);
        lastBody = body;
        lastSentAt = Date.now();
      }
      if (isTerminal(job)) {
        send('end', body);
        end();
      }
    } catch (err) {
      deps.log.warn({ jobId: deps.jobId, err: (err as Error).message }, 'job events read failed');
      dirty = true;
    } finally {
      reading = false;
      if (dirty) schedule();
    }
  };

  function schedule(): void {
    dirty = true;
    // Not drained: the drain handler schedules the read that sends the then latest state.
    if (ended || reading || timer || blockedSince !== undefined) return;
    const wait = Math.max(0, lastSentAt + minIntervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, wait);
  }

  // Watch before the first read, so a change between the two is not missed.
  const unwatch = deps.hub.watch(deps.jobId, { changed: schedule, closed: end });
  const heartbeat = setInterval(() => {
    if (blockedSince === undefined) return write(': heartbeat\n\n');
    if (Date.now() - blockedSince < stallMs) return;
    deps.log.info({ jobId: deps.jobId, stalledMs: Date.now() - blockedSince }, 'job events reader stalled: disconnected');
    end();
    res.destroy();
  }, heartbeatMs);
  res.on('close', end);
  void flush();
}

function isTerminal(job: Job): boolean {
  return TERMINAL_JOB_STATUSES.includes(job.status);
}
