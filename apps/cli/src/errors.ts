import { EXIT, type ExitCode } from './exit-codes.js';

/**
 * An error the user should see as one line on stderr: a bad flag, an unreadable input file,
 * an API problem. Anything else that escapes a command is a bug and is reported as
 * "unexpected error".
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.error,
    /** Worth trying again (network failure, 429, 502–504): the job watcher retries these. */
    readonly transient = false,
  ) {
    super(message);
  }
}

export function isCliError(err: unknown): err is CliError {
  return err instanceof Error && err.name.endsWith('CliError') && 'exitCode' in err;
}

/** The single stderr line for an error (newlines folded, so a detail never breaks it). */
export function errorLine(err: unknown, debug = false): string {
  if (isCliError(err)) return `batchscribe: ${oneLine(err.message)}\n`;
  const message = err instanceof Error ? err.message : String(err);
  const stack = debug && err instanceof Error && err.stack ? ` | ${oneLine(err.stack)}` : '';
  return `batchscribe: unexpected error: ${oneLine(message)}${stack}\n`;
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** A file-system error in words (`no such file`), for the one error line. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
      return 'it exists and is not a directory';
    default:
      return (err as Error | undefined)?.message ?? String(err);
  }
}
