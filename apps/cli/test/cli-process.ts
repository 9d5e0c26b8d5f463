import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `batchscribe` entry point as its own process (tsx, `source` condition), as a
 * user would, with only the BATCHSCRIBE_* variables given here.
 */
export async function runCliProcess(
  args: string[],
  opts: { env: Record<string, string>; stdin?: string; timeoutMs?: number },
): Promise<CliRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BATCHSCRIBE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', `${REPO_ROOT}apps/cli/src/main.ts`, ...args], {
    // tsx (given to --import) resolves from the working directory: the repository's root.
    cwd: REPO_ROOT,
    env: { ...env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(opts.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
