import type { ErrorInfo, FileRecord, FileStatus } from '../domain/job.js';
import { FILE_STATUSES } from '../domain/job.js';

/**
 * How a job's files are kept (docs/architecture.md, "The data model"): not one record per file
 * but packed into the record of the batch they were first put in, their *home* batch. File
 * `i` lives in home batch `floor(i / page)`, where `page` is the batch size at intake (kept in
 * the job hash, since BATCH_SIZE may change before a retry). A home batch's hash holds:
 *
 * - `f`: the files' inputs as one JSON array, written once at intake and never rewritten:
 *   a URL string, or `{u, r}` when the caller gave a ref, or `{up, fn, h, r?}` for a file
 *   from an upload (its id, filename and sha256, kept so no step has to read the upload);
 * - `st`: one status letter per file (STATUS_LETTERS), the only per-file state the scripts
 *   change, by position, without decoding anything else;
 * - `err`: JSON object offset → ErrorInfo, for the failed files only;
 * - `via`: JSON object offset → batch number, for files a retry put into a later batch (that
 *   batch's task id and number are theirs from then on);
 * - `ru`: JSON object offset → `"<k>:<index>"`, for files completed from an earlier transcript
 *   (reuse): they read file `<index>` of the job at position `<k>` of `rs`;
 * - `rs`: JSON array of the job ids those reused files read from (each named once per home);
 * - `dup`: JSON object offset → file index, in a `reuse` job, for a file whose recording an
 *   earlier file of the same job already is (its leader: transcribed once, for both).
 *
 * A retry's batches carry no files of their own: their `files` field lists the indexes.
 */

export const STATUS_LETTERS: Readonly<Record<FileStatus, string>> = {
  queued: 'q',
  submitted: 's',
  completed: 'c',
  failed: 'f',
  cancelled: 'x',
};

const STATUS_BY_LETTER = new Map<string, FileStatus>(FILE_STATUSES.map((s) => [STATUS_LETTERS[s], s]));

export function statusOfLetter(letter: string): FileStatus {
  const status = STATUS_BY_LETTER.get(letter);
  if (status === undefined) throw new Error(`unknown file status letter ${JSON.stringify(letter)}`);
  return status;
}

/** An uploaded file as a job keeps it: the upload, its filename and the sha256 of its bytes. */
export interface UploadedFileInput {
  id: string;
  filename: string;
  sha256: string;
}

/** One file as given at intake: a URL foxapi fetches, or an upload (docs/architecture.md, "Jobs from uploads"). */
export type FileInput = { url: string; ref?: string; upload?: undefined } | { upload: UploadedFileInput; ref?: string; url?: undefined };

type PackedEntry = string | { u: string; r?: string } | { up: string; fn: string; h: string; r?: string };

function packEntry(f: FileInput): PackedEntry {
  if (f.upload !== undefined) {
    const e: PackedEntry = { up: f.upload.id, fn: f.upload.filename, h: f.upload.sha256 };
    if (f.ref !== undefined) e.r = f.ref;
    return e;
  }
  return f.ref === undefined ? f.url : { u: f.url, r: f.ref };
}

/** The `f` field of the home batch holding files[from, to). */
export function packInputs(files: readonly FileInput[], from = 0, to = files.length): string {
  const urls: string[] = [];
  for (let i = from; i < to; i++) {
    const f = files[i]!;
    // URL-only batches (the common case) are packed as an array of strings.
    if (f.ref !== undefined || f.upload !== undefined) return JSON.stringify(files.slice(from, to).map(packEntry));
    urls.push(f.url);
  }
  return JSON.stringify(urls);
}

export function unpackInputs(raw: string): FileInput[] {
  return (JSON.parse(raw) as PackedEntry[]).map((e): FileInput => {
    if (typeof e === 'string') return { url: e };
    const ref = e.r === undefined ? {} : { ref: e.r };
    if ('up' in e) return { upload: { id: e.up, filename: e.fn, sha256: e.h }, ...ref };
    return { url: e.u, ...ref };
  });
}

/** The distinct upload ids among packed inputs (`f` of a home batch), without building FileInputs. */
export function uploadIdsOf(raw: string): string[] {
  const ids = new Set<string>();
  for (const e of JSON.parse(raw) as PackedEntry[]) if (typeof e === 'object' && 'up' in e) ids.add(e.up);
  return [...ids];
}

export const homeOf = (index: number, page: number): number => Math.floor(index / page);

/**
 * What makes two files the same recording for reuse (domain/reuse.ts): the content hash of an
 * upload, `sha256:<hex>`, when the entry has one, else the URL. Takes a FileRecord or an input.
 */
export function reuseIdentity(file: {
  readonly h?: string | undefined;
  readonly u?: string | undefined;
  readonly url?: string | undefined;
  readonly upload?: { readonly sha256: string } | undefined;
}): string {
  const hash = file.h ?? file.upload?.sha256;
  if (hash !== undefined && hash !== '') return `sha256:${hash}`;
  return file.u ?? file.url ?? '';
}

/**
 * For a `reuse` job, each home's `dup` field: offset → the index of the first file of the job
 * with the same reuse identity, for every later file that repeats one (homes without any are absent).
 */
export function packLeaders(files: readonly FileInput[], page: number): Map<number, string> {
  const first = new Map<string, number>();
  const byHome = new Map<number, Record<string, number>>();
  for (const [index, file] of files.entries()) {
    const identity = reuseIdentity(file);
    const leader = first.get(identity);
    if (leader === undefined) {
      first.set(identity, index);
      continue;
    }
    const home = homeOf(index, page);
    let dup = byHome.get(home);
    if (!dup) byHome.set(home, (dup = {}));
    dup[index - home * page] = leader;
  }
  return new Map([...byHome].map(([home, dup]) => [home, JSON.stringify(dup)]));
}

/** The fields of one home batch's hash that describe its files, as read. */
export interface HomeFields {
  f: string | null;
  st: string | null;
  err: string | null;
  via: string | null;
  /** The home batch's own task id (its files' unless `via` says otherwise). */
  task_id: string | null;
  /** Reused files: offset → `"<k>:<index>"`: file `<index>` of job `rs[k]` is the transcript they read. */
  ru?: string | null;
  /** The source jobs `ru` names by position. */
  rs?: string | null;
  /** Files of a `reuse` job that repeat an earlier one: offset → that file's index. */
  dup?: string | null;
}

export const HOME_FIELDS = ['f', 'st', 'err', 'via', 'task_id', 'ru', 'rs', 'dup'] as const;

export function homeFieldsFrom(values: readonly (string | null)[]): HomeFields {
  return {
    f: values[0] ?? null,
    st: values[1] ?? null,
    err: values[2] ?? null,
    via: values[3] ?? null,
    task_id: values[4] ?? null,
    ru: values[5] ?? null,
    rs: values[6] ?? null,
    dup: values[7] ?? null,
  };
}

/** `"<k>:<index>"` as kept in `ru`, with the home's `rs`. */
function parseReusedFrom(raw: string, sources: readonly string[]): { j: string; i: number } {
  const [k, i] = raw.split(':').map(Number);
  const j = sources[k ?? -1];
  if (j === undefined || !Number.isInteger(i) || i! < 0) throw new Error(`unreadable reuse source ${JSON.stringify(raw)}`);
  return { j, i: i! };
}

/**
 * The FileRecords of one home batch, from its packed fields; `taskOf` gives the task id of a
 * later batch a file went out again in. Throws when the record is damaged (its inputs and
 * statuses disagree), which the callers report as a damaged record.
 */
export function unpackHome(
  home: number,
  page: number,
  fields: HomeFields,
  taskOf: (batch: number) => string | null,
): Array<{ index: number; record: FileRecord }> {
  if (fields.f === null || fields.st === null) throw new Error(`batch ${home} has no file record`);
  const inputs = unpackInputs(fields.f);
  if (inputs.length !== fields.st.length) throw new Error(`batch ${home} holds ${inputs.length} files but ${fields.st.length} statuses`);
  const errors = fields.err === null ? {} : (JSON.parse(fields.err) as Record<string, ErrorInfo>);
  const via = fields.via === null ? {} : (JSON.parse(fields.via) as Record<string, number>);
  const reused = fields.ru ? (JSON.parse(fields.ru) as Record<string, string>) : {};
  const sources = fields.rs ? (JSON.parse(fields.rs) as string[]) : [];
  const leaders = fields.dup ? (JSON.parse(fields.dup) as Record<string, number>) : {};
  return inputs.map((input, offset) => {
    const batch = via[offset] ?? home;
    const record: FileRecord = { b: batch, s: statusOfLetter(fields.st![offset]!) };
    if (input.upload !== undefined) {
      record.up = input.upload.id;
      record.fn = input.upload.filename;
      record.h = input.upload.sha256;
    } else record.u = input.url;
    if (input.ref !== undefined) record.r = input.ref;
    const source = reused[offset];
    // A reused file had no task: its transcript is another file's.
    if (source !== undefined) record.rf = parseReusedFrom(source, sources);
    const task = batch === home ? fields.task_id : taskOf(batch);
    if (task !== null && record.s !== 'queued' && source === undefined) record.t = task;
    const error = errors[offset];
    if (error !== undefined) record.e = error;
    const leader = leaders[offset];
    if (leader !== undefined) record.ld = leader;
    return { index: home * page + offset, record };
  });
}

/** The later batches (a retry's) that files of these homes went out in: their task ids are read with the page. */
export function viaBatches(homes: readonly HomeFields[]): number[] {
  const batches = new Set<number>();
  for (const h of homes) {
    if (h.via === null) continue;
    for (const b of Object.values(JSON.parse(h.via) as Record<string, number>)) batches.add(b);
  }
  return [...batches];
}
