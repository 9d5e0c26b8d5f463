const WINDOW_MS = 1000;

/**
 * Sliding one-second window over accepted requests. Only accepted requests enter the window:
 * a client that keeps hammering gets 429s but is let through again as soon as the window has
 * room. The window holds at most `maxRps` timestamps, so memory stays bounded.
 */
export class RateCap {
  private accepted: number[] = [];
  private head = 0;
  private limit: number | undefined;

  constructor(maxRps: number | undefined) {
    this.limit = maxRps;
  }

  setLimit(maxRps: number | undefined): void {
    this.limit = maxRps;
  }

  /** Records the request and answers true when it fits under the cap at `now`. */
  tryAcquire(now: number): boolean {
    if (this.limit === undefined) return true;
    while (this.head < this.accepted.length && (this.accepted[this.head] ?? 0) <= now - WINDOW_MS) {
      this.head += 1;
    }
    if (this.accepted.length - this.head >= this.limit) return false;
    this.accepted.push(now);
    this.compact();
    return true;
  }

  clear(): void {
    this.accepted = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.accepted.length) {
      this.accepted = this.accepted.slice(this.head);
      this.head = 0;
    }
  }
}
