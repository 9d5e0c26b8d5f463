import { EXIT, type ExitCode } from './exit-codes.js';

/** How many `details` an error prints before it says how many more there are. */
export const MAX_DETAILS = 20;

/**
 * An error the user should see on stderr: one `batchscribe: …` line (a bad flag, an unreadable
 * input file, an API problem), then, when there are several things wrong (bad input lines,
 * the API's `errors[]`), one indented line for each. Anything else that escapes a command is a
 * bug and is reported as "unexpected error".
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.error,
    /** Worth trying again (network failure, 429, 502–504): the job watcher retries these. */
    readonly transient = false,
    /** One line each, listed under the message (the first MAX_DETAILS, then a count of the rest). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export function isCliError(err: unknown): err is CliError {
  return err instanceof Error && err.name.endsWith('CliError') && 'exitCode' in err;
}

/**
 * What stderr gets for an error: one line (newlines folded, so a server's detail never breaks
 * it), then the error's details, indented, at most MAX_DETAILS of them.
 */
export function errorLine(err: unknown, debug = false): string {
  if (isCliError(err)) {
    const shown = err.details.slice(0, MAX_DETAILS).map((d) => `  ${oneLine(d)}\n`);
    const more = err.details.length > MAX_DETAILS ? `  … and ${err.details.length - MAX_DETAILS} more\n` : '';
    return `batchscribe: ${oneLine(err.message)}\n${shown.join('')}${more}`;
  }
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
