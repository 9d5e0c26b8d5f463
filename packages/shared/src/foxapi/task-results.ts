import type { TaskSnapshot } from './types.js';

/*
 * What a task answer means for each input file (docs/upstream.md, decisions 1 and 2). foxapi does not
 * document Paraformer's `results[i]` (docs/upstream.md, "Task query"), so every shape we accept is read
 * defensively and nothing here throws.
 */

/** What became of one input file of a completed task. `fileUrl` is the input URL it belongs to. */
export type FileOutcome =
  /** DashScope's `{transcription_url}` or foxapi's common `{url}`: the B.5 JSON is to be downloaded. */
  | { kind: 'download'; url: string; fileUrl: string }
  /** `{file_url, transcripts, properties}`: the B.5 JSON itself; `transcription` is the whole entry. */
  | { kind: 'inline'; transcription: unknown; fileUrl: string }
  | { kind: 'failed'; code: string; message: string };

export type TaskOutcome =
  | { state: 'running'; progress: number | null }
  /** `files[i]` belongs to `inputUrls[i]`. */
  | { state: 'completed'; files: FileOutcome[] }
  | { state: 'failed'; code: string; message: string }
  | { state: 'cancelled' };

export const MISSING_RESULT = 'upstream_missing_result';
export const UNPARSABLE_RESULT = 'upstream_unparsable_result';
export const FILE_FAILED = 'upstream_file_failed';
export const TASK_FAILED = 'upstream_task_failed';

type Entry = Record<string, unknown>;

export function interpretTask(snapshot: TaskSnapshot, inputUrls: readonly string[]): TaskOutcome {
  const status = typeof snapshot.status === 'string' ? snapshot.status.toLowerCase() : '';
  switch (status) {
    case 'completed':
    case 'succeeded':
      return { state: 'completed', files: interpretResults(resultsOf(snapshot), inputUrls) };
    case 'failed':
      return {
        state: 'failed',
        code: nonEmpty(snapshot.error?.code) ?? TASK_FAILED,
        message: nonEmpty(snapshot.error?.message) ?? 'upstream task failed',
      };
    case 'cancelled':
    case 'canceled':
      return { state: 'cancelled' };
    default:
      return { state: 'running', progress: typeof snapshot.progress === 'number' ? snapshot.progress : null };
  }
}

/** `results` as the snapshot carries it, else the raw answer's `results`, else DashScope's `output.results`. */
function resultsOf(snapshot: TaskSnapshot): unknown[] | null {
  if (Array.isArray(snapshot.results)) return snapshot.results;
  const raw = asEntry(snapshot.raw);
  if (Array.isArray(raw?.results)) return raw.results;
  const output = asEntry(raw?.output);
  if (Array.isArray(output?.results)) return output.results;
  return null;
}

/** Matches entries to inputs and reads each; `files[i]` belongs to `inputUrls[i]`. */
export function interpretResults(results: readonly unknown[] | null, inputUrls: readonly string[]): FileOutcome[] {
  const matched = results ? matchEntries(results, inputUrls) : inputUrls.map(() => undefined);
  return inputUrls.map((fileUrl, i) => {
    const entry = matched[i];
    if (entry === undefined) {
      return failed(MISSING_RESULT, 'upstream returned no result for this file');
    }
    return readEntry(entry, fileUrl);
  });
}

/**
 * By `file_url`; the k-th entry naming a URL belongs to that URL's k-th occurrence in the inputs.
 * Only when no entry names a file and the counts agree do we trust positions (foxapi's `{url}` shape).
 */
function matchEntries(results: readonly unknown[], inputUrls: readonly string[]): Array<unknown | undefined> {
  const anyNamed = results.some((r) => fileUrlOf(r) !== null);
  if (!anyNamed) {
    return results.length === inputUrls.length ? [...results] : inputUrls.map(() => undefined);
  }
  const byUrl = new Map<string, unknown[]>();
  for (const entry of results) {
    const url = fileUrlOf(entry);
    if (url === null) continue;
    const key = urlKey(url);
    const queue = byUrl.get(key);
    if (queue) queue.push(entry);
    else byUrl.set(key, [entry]);
  }
  return inputUrls.map((url) => byUrl.get(urlKey(url))?.shift());
}

function readEntry(value: unknown, fileUrl: string): FileOutcome {
  const entry = asEntry(value);
  if (!entry) return failed(UNPARSABLE_RESULT, 'upstream result entry is not an object');
  const code = nonEmpty(textOf(entry.code));
  const message = nonEmpty(textOf(entry.message));
  const transcriptionUrl = nonEmpty(entry.transcription_url);
  const url = nonEmpty(entry.url);
  const inline = Array.isArray(entry.transcripts);
  const subtaskFailed = typeof entry.subtask_status === 'string' && entry.subtask_status.toUpperCase() === 'FAILED';
  if (subtaskFailed || (code !== null && !transcriptionUrl && !url && !inline)) {
    return failed(code ?? FILE_FAILED, message ?? 'upstream reported the file as failed');
  }
  if (transcriptionUrl) return { kind: 'download', url: transcriptionUrl, fileUrl };
  if (inline) return { kind: 'inline', transcription: entry, fileUrl };
  if (url) return { kind: 'download', url, fileUrl };
  return failed(UNPARSABLE_RESULT, 'upstream result entry has an unknown shape');
}

function failed(code: string, message: string): FileOutcome {
  return { kind: 'failed', code, message };
}

function asEntry(value: unknown): Entry | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Entry) : null;
}

function fileUrlOf(value: unknown): string | null {
  return nonEmpty(asEntry(value)?.file_url);
}

/** Upstream may re-serialise a URL (percent-encoding, host case); compare the WHATWG form. */
function urlKey(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
