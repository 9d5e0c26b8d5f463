import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX_LOADER = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ProcessOptions {
  env: Record<string, string>;
  stdin?: string;
  timeoutMs?: number;
  /** Working directory (default: the repository's root). */
  cwd?: string;
}

/**
 * Runs the real `batchscribe` entry point as its own process (tsx, `source` condition), as a
 * user would, with only the BATCHSCRIBE_* variables given here and no config file unless
 * `env.XDG_CONFIG_HOME` points at one.
 */
export async function runCliProcess(args: string[], opts: ProcessOptions): Promise<CliRun> {
  return runProcess(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', join(REPO_ROOT, 'apps/cli/src/main.ts'), ...args],
    opts,
  );
}

/** Any command, with the environment cleaned the same way (no BATCHSCRIBE_*, no npm/pnpm script variables). */
export async function runProcess(command: string, args: string[], opts: ProcessOptions): Promise<CliRun> {
  return startProcess(command, args, opts).done;
}

/** A running CLI process: a test may kill it (kill -9 in the middle of an upload) and then read what it printed. */
export interface StartedCli {
  child: ChildProcess;
  /** What it has printed to stderr so far. */
  stderr: () => string;
  done: Promise<CliRun>;
}

/** `runCliProcess` without waiting for the end. */
export function startCliProcess(args: string[], opts: ProcessOptions): StartedCli {
  return startProcess(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', join(REPO_ROOT, 'apps/cli/src/main.ts'), ...args],
    opts,
  );
}

function startProcess(command: string, args: string[], opts: ProcessOptions): StartedCli {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BATCHSCRIBE_') && !/^(npm_|INIT_CWD$)/i.test(k)),
  );
  const child = spawn(command, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...inherited, XDG_CONFIG_HOME: join(tmpdir(), 'bs-cli-test-no-config'), ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(opts.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, stderr: () => stderr, done };
}
