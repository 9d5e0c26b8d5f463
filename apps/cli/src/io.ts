import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** A stream the CLI writes to; `isTTY` decides between a live bar and one-line progress. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

/**
 * Everything the CLI touches outside itself, so tests can run it in-process without a
 * terminal or a network. `runCli` fills what a caller leaves out from the real process.
 */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative input and output paths resolve against this. */
  cwd: string;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** How often `watch` polls when the event stream is unavailable. Default 1500 ms. */
  pollIntervalMs: number;
  /** Non-TTY progress: the least time between two progress lines. Default 5000 ms. */
  progressIntervalMs: number;
}

export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: invocationDir(process.env, process.cwd()),
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    pollIntervalMs: 1_500,
    progressIntervalMs: 5_000,
  };
}

/**
 * The directory relative paths mean. `pnpm -C repo cli …` (the repository's own `cli` script)
 * runs the CLI in the repository root; pnpm and npm keep the directory the user typed the
 * command in as INIT_CWD. Anywhere else (the installed `batchscribe`, another project's script)
 * it is the process's own working directory.
 */
export function invocationDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const underRepoScript = env.npm_package_name === 'batchscribe' && env.npm_lifecycle_event === 'cli';
  return underRepoScript && env.INIT_CWD ? env.INIT_CWD : cwd;
}

/** The first line of a stream (without its line ending): on a terminal, what the user typed before Enter. */
export async function readFirstLine(stream: Readable): Promise<string> {
  const reader = createInterface({ input: stream, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of reader) return line;
    return '';
  } finally {
    reader.close();
  }
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
