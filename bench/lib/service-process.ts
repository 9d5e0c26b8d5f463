import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../scripts/lib/processes.js';

/** Where children's logs (and CPU profiles with BENCH_CPU_PROF=1) go. */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'bench', 'results', 'artifacts');

export interface MemorySample {
  /** Resident set now, bytes. */
  rss: number;
  /** Peak resident set over the process's life (VmHWM), bytes. */
  peak: number;
}

/** USER_HZ: 100 on every mainstream Linux. */
const CLOCK_TICKS = 100;

/** Children not yet exited: killed if this process exits first (an error, Ctrl-C), never orphaned. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * One service process of a benchmark (api, worker, bare baseline server): a built JavaScript
 * entry run by plain Node, as `pnpm start:api` / `pnpm start:worker` do in production, with its
 * output going straight to a log file (not through this process, which has measuring to do).
 */
export class ServiceProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    nodeArgs: string[],
    env: Record<string, string>,
  ) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const fd = openSync(logFile, 'w');
    // One dir per process: the main thread and tsx's loader thread each write a profile.
    const profile = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(ARTIFACTS_DIR, 'profiles', name)}`] : [];
    this.child = spawn(process.execPath, [...profile, ...nodeArgs], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        live.delete(this.child);
        resolve();
      }),
    );
  }

  /** `nodeArgs`: what follows `node` on the command line (flags, then the entry point). */
  static start(name: string, nodeArgs: string[], env: Record<string, string>): ServiceProcess {
    return new ServiceProcess(name, join(ARTIFACTS_DIR, `${name}.log`), nodeArgs, env);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Waits for a log line containing `text` (pino JSON lines). */
  async waitForLog(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log().includes(text)) {
      if (!this.alive) throw new Error(`${this.name} exited before logging "${text}":\n${this.log().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log "${text}" within ${timeoutMs} ms:\n${this.log().slice(-2000)}`);
      await sleep(50);
    }
  }

  /** Linux /proc figures; null elsewhere. */
  memory(): MemorySample | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
      return { rss: kb('VmRSS'), peak: kb('VmHWM') };
    } catch {
      return null;
    }
  }

  /** CPU time (user + system) the process has used so far, seconds (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number {
    try {
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return Number.NaN;
    }
  }

  /** Samples RSS every `everyMs` until stopped; returns the samples (bytes). */
  sampleRss(everyMs = 20): { stop: () => number[] } {
    const samples: number[] = [];
    const timer = setInterval(() => {
      const m = this.memory();
      if (m) samples.push(m.rss);
    }, everyMs);
    return {
      stop: () => {
        clearInterval(timer);
        return samples;
      },
    };
  }

  /** SIGTERM (the services drain and exit 0, writing a CPU profile if asked), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}

/** Waits until `url` answers 200. */
export async function waitForHttp(url: string, owner: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (!owner.alive) throw new Error(`${owner.name} exited:\n${owner.log().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${owner.log().slice(-2000)}`);
    await sleep(50);
  }
}

/**
 * The command line of a root package.json script such as `start:api` (`node [flags] entry`),
 * minus `node`: the benchmarks start the services exactly as production does.
 */
export function nodeArgsOfScript(script: 'start:api' | 'start:worker'): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const [cmd, ...args] = (pkg.scripts?.[script] ?? '').trim().split(/\s+/);
  if (cmd !== 'node' || args.length === 0) throw new Error(`package.json script ${script} is not "node … entry": ${pkg.scripts?.[script]}`);
  return args;
}
