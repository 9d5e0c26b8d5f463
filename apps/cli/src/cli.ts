import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient } from './api/client.js';
import { cancelCommand, listCommand, retryCommand, statusCommand, watchCommand } from './commands/jobs.js';
import type { CommandContext } from './commands/context.js';
import { RESULT_FORMATS, resultsCommand, type ResultFormat } from './commands/results.js';
import { submitCommand, type SubmitOptions } from './commands/submit.js';
import { resolveConnection } from './config.js';
import { CliError, errorLine, isCliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { INPUT_FORMATS } from './input.js';
import { processIo, type CliIo } from './io.js';

const HELP_FOOTER = `
Environment:
  BATCHSCRIBE_URL    API base URL (default http://127.0.0.1:3000); --url overrides it
  BATCHSCRIBE_TOKEN  API token (Authorization: Bearer); --token overrides it

Exit codes:
  0  submit --wait, watch, retry/cancel --wait: the job completed and every file was transcribed
     results: DIR holds a transcript for every input
     status: the job completed, or is still queued or running
     submit, list, cancel, retry (without --wait): the request succeeded
  2  the job ended with some file not transcribed (failed or cancelled);
     results: some input has no transcript (listed on stderr)
  1  any error (bad input or flags, HTTP error, network): one line on stderr
`;

/**
 * Runs the CLI in-process and resolves to its exit code; never throws and never exits the
 * process. `io` replaces any of the process's streams, environment, fetch or clock.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const fullIo: CliIo = { ...processIo(), ...io };
  let exitCode: number = EXIT.ok;
  const program = buildProgram(fullIo, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    // Commander has already printed its message (usage error) or the help/version it was asked for.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.error;
    fullIo.stderr.write(errorLine(err, fullIo.env.BATCHSCRIBE_DEBUG === '1'));
    return isCliError(err) ? err.exitCode : EXIT.error;
  }
}

function buildProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('batchscribe')
    .description('Submit batch transcription jobs to a batchscribe server, follow them, and download their transcripts.')
    .version(packageVersion(), '-V, --version')
    .option('--url <url>', 'API base URL (default: $BATCHSCRIBE_URL, else http://127.0.0.1:3000)')
    .option('--token <token>', 'API token (default: $BATCHSCRIBE_TOKEN; prefer the variable: flags show in ps)')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errorLine(new CliError(text.replace(/^error:\s*/i, '')))),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
    })
    .addHelpText('after', HELP_FOOTER);

  const context = (): CommandContext => {
    const connection = resolveConnection(program.opts<{ url?: string; token?: string }>(), io.env);
    return { io, client: new ApiClient({ ...connection, fetch: io.fetch }) };
  };
  const run = (command: (ctx: CommandContext) => Promise<ExitCode>) => async () => setExitCode(await command(context()));
  const progress = new Option('--no-progress', 'no progress bar or progress lines on stderr');
  const json = new Option('--json', 'print the Job as JSON on stdout');

  program
    .command('submit')
    .description('submit a job: FILE (or - for stdin) holds one URL a line, CSV "url,ref" (header optional), or JSON')
    .argument('<FILE>', 'input file, or - to read stdin')
    .option('--model <model>', 'paraformer-v2 (default) or paraformer-8k-v2')
    .option('--lang <codes>', 'language hints, comma-separated (zh,en,ja,yue,ko,de,fr,ru)', commaList)
    .option('--name <name>', 'a name for the job')
    .option('--callback <url>', 'webhook URL called when the job ends')
    .addOption(
      new Option('--priority <lane>', 'scheduling lane (default: interactive for one batch, else bulk)').choices(['interactive', 'bulk']),
    )
    .option('--idempotency-key <key>', 'submitting again with the same key and input returns the first job')
    .addOption(new Option('--input-format <format>', 'how to read FILE (default: by extension, else by content)').choices(INPUT_FORMATS))
    .option('--wait', 'follow the job until it ends, with a progress bar, and exit 0 or 2 by its outcome')
    .addOption(progress)
    .addOption(new Option('--json', 'print the Job as JSON on stdout instead of its id'))
    .addHelpText(
      'after',
      `
JSON input: ["https://…", …], [{"url": "https://…", "ref": "…"}, …], or a POST /v1/jobs body
({"files": […] | "file_urls": […], "model", "metadata", …}); flags override its fields.
stdout: the job id. Exit: 0 accepted (with --wait: every file transcribed); 2 (--wait) some file not transcribed; 1 error.`,
    )
    .action((file: string, opts: SubmitOptions) => run((ctx) => submitCommand(ctx, file, opts))());

  program
    .command('status')
    .description("print a job's state and counts")
    .argument('<ID>', 'job id (job_…)')
    .addOption(json)
    .addHelpText('after', '\nExit: 0 completed, or still queued/running; 2 ended with some file not transcribed; 1 error.')
    .action((id: string, opts: { json?: boolean }) => run((ctx) => statusCommand(ctx, id, opts))());

  program
    .command('watch')
    .description('follow a job until it ends, with live progress (server-sent events, else polling)')
    .argument('<ID>', 'job id (job_…)')
    .addOption(progress)
    .addOption(json)
    .addHelpText('after', '\nExit: 0 every file transcribed; 2 ended with some file not transcribed; 1 error.')
    .action((id: string, opts: { progress: boolean; json?: boolean }) => run((ctx) => watchCommand(ctx, id, opts))());

  program
    .command('list')
    .description('list your jobs, newest first')
    .option(
      '--status <status>',
      'only jobs in this state (queued, running, cancelling, completed, completed_with_errors, failed, cancelled)',
    )
    .option('--limit <n>', 'jobs per page, 1..100 (default 20)', intInRange(1, 100))
    .option('--all', 'follow next_cursor through every page')
    .addOption(new Option('--json', 'one Job as JSON per line'))
    .action((opts: { status?: string; limit?: number; all?: boolean; json?: boolean }) => run((ctx) => listCommand(ctx, opts))());

  program
    .command('results')
    .description("download a job's transcripts into DIR: one file per input, named by its ref, else by its index")
    .argument('<ID>', 'job id (job_…)')
    .addOption(
      new Option('--format <format>', 'one file per input, named by ref or index: ndjson its FileResult; txt|srt|vtt|json its transcript')
        .choices(RESULT_FORMATS)
        .default('txt'),
    )
    .requiredOption('--out <DIR>', 'output directory (created if missing; files of the same name are replaced)')
    .addHelpText('after', '\nExit: 0 DIR holds a transcript for every input; 2 some input has none (listed on stderr); 1 error.')
    .action((id: string, opts: { format: ResultFormat; out: string }) => run((ctx) => resultsCommand(ctx, id, opts))());

  program
    .command('cancel')
    .description('cancel a job (transcripts finished before are kept)')
    .argument('<ID>', 'job id (job_…)')
    .option('--wait', 'follow the job until it ends')
    .addOption(progress)
    .addOption(json)
    .action((id: string, opts: { wait?: boolean; progress: boolean; json?: boolean }) => run((ctx) => cancelCommand(ctx, id, opts))());

  program
    .command('retry')
    .description("send a finished job's failed files out again")
    .argument('<ID>', 'job id (job_…)')
    .option('--wait', 'follow the job until it ends, and exit 0 or 2 by its outcome')
    .addOption(progress)
    .addOption(json)
    .action((id: string, opts: { wait?: boolean; progress: boolean; json?: boolean }) => run((ctx) => retryCommand(ctx, id, opts))());

  return program;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function intInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
