import type { Response } from 'express';

/**
 * Requests the simulator holds on purpose: those delayed by `latencyMs` and those a hang fault
 * never answers. Tracked so `close()` can end them instead of leaving sockets and timers behind.
 */
export class OpenRequests {
  private readonly hung = new Set<Response>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Keeps `res` open until the client gives up or the simulator closes. */
  hang(res: Response): void {
    this.hung.add(res);
    res.once('close', () => this.hung.delete(res));
  }

  delay(ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      then();
    }, ms);
    this.timers.add(timer);
  }

  closeAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }
}
