import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient, type TranscriptFormat } from './api/client.js';
import { configPathCommand, configSetCommand, configShowCommand, configUnsetCommand } from './commands/config.js';
import type { CommandContext } from './commands/context.js';
import { cancelCommand, deleteCommand, listCommand, retryCommand, statusCommand, watchCommand } from './commands/jobs.js';
import { RESULT_FORMATS, resultsCommand, TRANSCRIPT_FORMATS, transcriptCommand, type ResultFormat } from './commands/results.js';
import {
  schedulesCreateCommand,
  schedulesDeleteCommand,
  schedulesListCommand,
  schedulesRunCommand,
  schedulesShowCommand,
  type ScheduleCreateOptions,
} from './commands/schedules.js';
import { submitCommand, type SubmitOptions, type UploadTuning } from './commands/submit.js';
import { usageCommand } from './commands/usage.js';
import { configPath, loadConfig } from './config-file.js';
import { resolveConnection, type ConnectionFlags } from './config.js';
import { CliError, errorLine, isCliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { INPUT_FORMATS } from './input.js';
import { processIo, type CliIo } from './io.js';
import { MEDIA_EXTENSIONS } from './sources/media-names.js';
import { cacheDir } from './uploads/resume-state.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_RETRY_DELAYS } from './uploads/uploader.js';

const helpFooter = (env: CliIo['env']) => `
Connection: each of URL and token comes from the first of: --url/--token, the environment,
the profile (--profile, else $BATCHSCRIBE_PROFILE, else "default") in the config file, the default.
  BATCHSCRIBE_URL      API base URL (default http://127.0.0.1:3000)
  BATCHSCRIBE_TOKEN    API token (Authorization: Bearer)
  BATCHSCRIBE_PROFILE  profile to use
  config file          ${configPath(env)}
                       (batchscribe config set [--profile NAME] url URL token -)

Exit codes:
  0  submit --wait, watch, retry/cancel --wait: the job completed and every file was transcribed
     results: DIR holds a transcript for every input
     status: the job completed, or is still queued or running
     transcript: it was printed
     other commands (submit, cancel, retry, schedules run without --wait): the request succeeded
  2  the job ended with some file not transcribed (failed or cancelled);
     results: some input has no transcript (listed on stderr)
  1  any error (bad input or flags, HTTP error, network): one line on stderr, then one
     indented line per bad input line or rejected field, if there are several
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
    .option('--token <token>', 'API token (default: $BATCHSCRIBE_TOKEN, else the profile; a flag shows in ps and shell history)')
    .option('--profile <name>', 'config file profile (default: $BATCHSCRIBE_PROFILE, else "default")')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errorLine(new CliError(text.replace(/^error:\s*/i, '')))),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
    })
    .addHelpText('after', helpFooter(io.env));

  const flags = () => program.opts<ConnectionFlags>();
  // The connection is resolved when a command first calls the API: its own checks (input
  // lines, dates) come first, and `config` works with no token set.
  const context = async (): Promise<CommandContext> => {
    const config = await loadConfig(io.env);
    let client: ApiClient | undefined;
    return {
      io,
      get client() {
        client ??= new ApiClient({ ...resolveConnection(flags(), io.env, config), fetch: io.fetch });
        return client;
      },
    };
  };
  const run = (command: (ctx: CommandContext) => Promise<ExitCode>) => async () => setExitCode(await command(await context()));
  const local = (command: () => ExitCode | Promise<ExitCode>) => async () => setExitCode(await command());
  const progress = new Option('--no-progress', 'no progress bar or progress lines on stderr');
  const json = new Option('--json', 'print the Job as JSON on stdout');

  program
    .command('submit')
    .description(
      'submit a job: URL lists (one URL a line, CSV "url,ref", or JSON; - for stdin), and audio/video files, folders and .zip archives, uploaded first',
    )
    .argument('<PATH...>', 'URL list, - (stdin), media file, folder (searched recursively) or .zip archive; several may be mixed')
    .option('--model <model>', 'paraformer-v2 (default) or paraformer-8k-v2')
    .option('--lang <codes>', 'language hints, comma-separated (zh,en,ja,yue,ko,de,fr,ru)', commaList)
    .option('--name <name>', 'a name for the job')
    .option('--callback <url>', 'webhook URL called when the job ends')
    .addOption(
      new Option('--priority <lane>', 'scheduling lane (default: interactive for one batch, else bulk)').choices(['interactive', 'bulk']),
    )
    .option('--idempotency-key <key>', 'submitting again with the same key and input returns the first job')
    .option('--reuse', 'complete files this tenant already had transcribed (same URL, model and options) from that transcript')
    .addOption(
      new Option('--input-format <format>', 'how to read URL lists (default: by extension, else by content)').choices(INPUT_FORMATS),
    )
    .option('--include <glob>', 'in folders and archives, only files matching this glob (repeatable)', collect)
    .option('--exclude <glob>', 'in folders and archives, leave out files matching this glob (repeatable)', collect)
    .option('--parallel <n>', 'uploads at once, 1..32 (default 4)', intInRange(1, 32))
    .option(
      '--resume',
      'continue the uploads of an earlier run of the same inputs from where they stopped, and reuse its job if it made one',
    )
    .option('--wait', 'follow the job until it ends, with a progress bar, and exit 0 or 2 by its outcome')
    .addOption(progress)
    .addOption(new Option('--json', 'print the Job as JSON on stdout instead of its id'))
    .addHelpText(
      'after',
      `
URL lists: a file that is not audio/video, or - for stdin. JSON: ["https://…", …], [{"url": "https://…", "ref": "…"}, …],
or a POST /v1/jobs body ({"files": […] | "file_urls": […], "model", "metadata", …}); flags override its fields.
Uploads: files ending in ${MEDIA_EXTENSIONS.join(' ')} (any case);
in folders and archives hidden files, __MACOSX/ and ._* are left out. Each file's ref is its path inside
the folder or archive (its name for a file).
A glob without a slash matches file names at any depth (*.m4a), one with a slash the whole path (2026/**).
--resume keeps its state in ${cacheDir(io.env)} ($XDG_CACHE_HOME respected).
BATCHSCRIBE_CHUNK_SIZE: bytes per upload request (default 8388608); lower it behind a proxy that limits request bodies.
stdout: the job id. Exit: 0 accepted (with --wait: every file transcribed); 2 (--wait) some file not transcribed; 1 error.`,
    )
    .action((paths: string[], opts: SubmitOptions) => run((ctx) => submitCommand(ctx, paths, opts, uploadTuning(io.env)))());

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
    .option(
      '--out <DIR>',
      'output directory (created if missing; files of the same name are replaced); uploaded files keep the folders of their ref',
    )
    .option('--index <N>', 'print only file N’s transcript to stdout instead (the same as: transcript ID N)', intInRange(0, 1e9))
    .addHelpText('after', '\nExit: 0 DIR holds a transcript for every input; 2 some input has none (listed on stderr); 1 error.')
    .action((id: string, opts: { format: ResultFormat; out?: string; index?: number }) => run((ctx) => resultsCommand(ctx, id, opts))());

  program
    .command('transcript')
    .description("print one file's transcript to stdout")
    .argument('<ID>', 'job id (job_…)')
    .argument('<N>', 'the file’s index (its position in the input, from 0)', intInRange(0, 1e9))
    .addOption(new Option('--format <format>', 'raw is foxapi’s JSON as received').choices(TRANSCRIPT_FORMATS).default('txt'))
    .addHelpText('after', '\nExit: 0 printed; 1 error (404: no transcript for that file yet, or no such job).')
    .action((id: string, index: number, opts: { format: TranscriptFormat }) => run((ctx) => transcriptCommand(ctx, id, index, opts))());

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

  program
    .command('delete')
    .description('delete a finished job and its transcripts (refused while it runs)')
    .argument('<ID>', 'job id (job_…)')
    .action((id: string) => run((ctx) => deleteCommand(ctx, id))());

  addSchedulesCommands(program, run, progress);

  program
    .command('usage')
    .description('hours of audio transcribed per day (UTC), and the month’s budget if there is one')
    .option('--from <YYYY-MM-DD>', 'first day (default: the first of this month)')
    .option('--to <YYYY-MM-DD>', 'last day (default: today)')
    .addOption(new Option('--json', 'the API’s answer as JSON'))
    .addHelpText('after', '\nAUDIO and BILLED are hours:minutes:seconds; REUSED counts files completed from an earlier transcript.')
    .action((opts: { from?: string; to?: string; json?: boolean }) => run((ctx) => usageCommand(ctx, opts))());

  const config = program
    .command('config')
    .description('the config file: a URL and token per profile, so a token need not be typed or exported')
    .addHelpText(
      'after',
      `\nFile: ${configPath(io.env)} ($XDG_CONFIG_HOME respected), written readable by you only (0600):
  {"profiles": {"default": {"url": "https://…", "token": "…"}, "staging": {…}}}
Example: batchscribe config set --profile staging url https://bs.staging.example.com token - < token.txt`,
    );
  config
    .command('set')
    .description('set url and/or token of the profile (--profile, else "default"); a value of - is read from stdin')
    .argument('<KEY VALUE...>', 'url URL, token TOKEN (or token -)')
    .action((pairs: string[]) => local(() => configSetCommand(io, flags(), pairs))());
  config
    .command('unset')
    .description('remove settings from the profile; with no KEY, the whole profile')
    .argument('[KEY...]', 'url, token')
    .action((keys: string[]) => local(() => configUnsetCommand(io, flags(), keys))());
  config
    .command('show')
    .description('list the profiles (* marks the one in use); tokens are never printed')
    .action(() => local(() => configShowCommand(io, flags()))());
  config
    .command('path')
    .description('print where the config file is')
    .action(() => local(() => configPathCommand(io))());

  return program;
}

type Run = (command: (ctx: CommandContext) => Promise<ExitCode>) => () => Promise<void>;

function addSchedulesCommands(program: Command, run: Run, progress: Option): void {
  const schedules = program.command('schedules').description('nightly jobs: a cron, and a manifest URL or a fixed list of URLs');
  schedules
    .command('list')
    .description('list your schedules')
    .option('--all', 'follow next_cursor through every page')
    .addOption(new Option('--json', 'one Schedule as JSON per line'))
    .action((opts: { all?: boolean; json?: boolean }) => run((ctx) => schedulesListCommand(ctx, opts))());
  schedules
    .command('show')
    .description('print one schedule')
    .argument('<ID>', 'schedule id (sch_…)')
    .addOption(new Option('--json', 'the Schedule as JSON'))
    .action((id: string, opts: { json?: boolean }) => run((ctx) => schedulesShowCommand(ctx, id, opts))());
  schedules
    .command('create')
    .description('create a schedule; stdout: its id')
    .requiredOption('--name <name>', 'the schedule’s name (names its jobs unless --job-name is given)')
    .requiredOption('--cron <expr>', '5 fields (minute hour day month weekday), or 6 with seconds first, e.g. "0 2 * * *"')
    .option('--timezone <tz>', 'IANA time zone the cron is read in (default UTC)')
    .option('--manifest-url <url>', 'fetched at every run: one URL a line, or a JSON array')
    .option('--file <FILE>', 'a fixed list of URLs instead (as submit reads it; - for stdin)')
    .addOption(new Option('--input-format <format>', 'how to read FILE').choices(INPUT_FORMATS))
    .option('--model <model>', 'paraformer-v2 (default) or paraformer-8k-v2')
    .option('--lang <codes>', 'language hints, comma-separated', commaList)
    .option('--job-name <name>', 'name of the jobs it makes')
    .option('--callback <url>', 'webhook URL called when each job ends')
    .addOption(new Option('--priority <lane>', 'scheduling lane of its jobs').choices(['interactive', 'bulk']))
    .option('--reuse', 'complete files already transcribed from their earlier transcript')
    .addOption(new Option('--json', 'print the Schedule as JSON instead of its id'))
    .action((opts: ScheduleCreateOptions) => run((ctx) => schedulesCreateCommand(ctx, opts))());
  schedules
    .command('delete')
    .description('delete a schedule (the jobs it made stay)')
    .argument('<ID>', 'schedule id (sch_…)')
    .action((id: string) => run((ctx) => schedulesDeleteCommand(ctx, id))());
  schedules
    .command('run')
    .description('fire a schedule now; stdout: the id of the job it made')
    .argument('<ID>', 'schedule id (sch_…)')
    .option('--wait', 'follow the job until it ends, and exit 0 or 2 by its outcome')
    .addOption(progress)
    .addOption(new Option('--json', 'print the Job as JSON'))
    .action((id: string, opts: { wait?: boolean; progress: boolean; json?: boolean }) =>
      run((ctx) => schedulesRunCommand(ctx, id, opts))(),
    );
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** BATCHSCRIBE_CHUNK_SIZE, checked when a submit needs it, naming the variable if it is wrong. */
function uploadTuning(env: CliIo['env']): UploadTuning {
  const raw = env.BATCHSCRIBE_CHUNK_SIZE?.trim();
  if (!raw) return { chunkSize: DEFAULT_CHUNK_SIZE, retryDelays: DEFAULT_RETRY_DELAYS };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n > 2 ** 30)
    throw new CliError(`BATCHSCRIBE_CHUNK_SIZE must be a whole number of bytes from 1024 to 1073741824, not ${JSON.stringify(raw)}`);
  return { chunkSize: n, retryDelays: DEFAULT_RETRY_DELAYS };
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
