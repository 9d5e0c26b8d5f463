import pLimit from 'p-limit';

/** How many media URLs are fetched at once, over all tasks. */
const CONCURRENT_FETCHES = 32;
/** Only the start of a file is read: enough to know it can be downloaded. */
const FIRST_BYTES = 'bytes=0-1023';

/**
 * Reads the first bytes of media URLs, as upstream does before transcribing them. A URL passes
 * when it answers 200 or 206 within the timeout; the body is dropped after its headers.
 */
export class MediaChecker {
  private readonly limit = pLimit(CONCURRENT_FETCHES);
  private controller = new AbortController();

  /** Resolves true when `url` can be downloaded; never rejects. */
  check(url: string, timeoutMs: number): Promise<boolean> {
    return this.limit(async () => {
      try {
        const answer = await fetch(url, {
          headers: { range: FIRST_BYTES },
          redirect: 'follow',
          signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await answer.body?.cancel().catch(() => undefined);
        return answer.status === 200 || answer.status === 206;
      } catch {
        return false;
      }
    });
  }

  /** Ends fetches under way and drops queued ones (their files fail), so `close()` leaves no sockets. */
  abortAll(): void {
    this.limit.clearQueue();
    this.controller.abort();
    this.controller = new AbortController();
  }
}
