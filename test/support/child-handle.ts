import type { ChildProcess } from 'node:child_process';
import { spawnTs } from '../../scripts/lib/processes.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process of the stack with its recent output. */
export class ChildHandle {
  readonly lines: string[] = [];
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly lineWaiters: Array<{ test: (line: string) => boolean; resolve: () => void }> = [];

  constructor(
    readonly name: string,
    readonly entry: string,
    readonly env: Record<string, string>,
  ) {
    this.child = spawnTs(entry, env, { onLine: (line) => this.onLine(line) });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.onLine(`[harness] ${this.name} exited code=${code} signal=${signal}`);
        resolve(this.exitInfo);
      });
    });
  }

  readonly child: ChildProcess;

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 3_000) this.lines.splice(0, 1_000);
    for (const w of [...this.lineWaiters]) {
      if (w.test(line)) {
        this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves when a line (already seen or future) matches; rejects if the child exits first or at the deadline. */
  async waitForLine(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.lines.some(test)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.lineWaiters.push(waiter);
      void this.exited.then((info) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code=${info.code} signal=${info.signal}) before ${what}`));
      });
    });
  }

  /** Sends a signal and waits for the exit (a SIGKILL follows after `timeoutMs`). */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<ExitInfo> {
    if (!this.alive) return this.exitInfo!;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.child.kill(signal);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }

  /** Parsed pino lines carrying `msg`. */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line (chunk boundary): ignored
      }
    }
    return out;
  }

  /** The last `n` lines, leaving out successful HTTP access-log lines (they crowd out the rest). */
  tail(n = 40): string {
    const useful = this.lines.filter((l) => !(l.includes('"msg":"request completed"') && /"statusCode":[23]\d\d/.test(l)));
    return useful
      .slice(-n)
      .map((l) => `  [${this.name}] ${l.slice(0, 400)}`)
      .join('\n');
  }
}
