import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { CliError, describeFsError } from './errors.js';
import { InputError, parseSubmitInput, type InputFormat } from './input.js';
import { readAll, type CliIo } from './io.js';
import { scanFolder, type DiskFile } from './sources/folder.js';
import { createSelector, isMediaName, type SelectOptions } from './sources/media-names.js';
import { ZipArchive } from './sources/zip-archive.js';
import type { MediaFile } from './uploads/media-source.js';

/** The longest ref the API takes (files[].ref). */
const MAX_REF_LENGTH = 256;

/** One input of the job, in the job's order. */
export type PlannedInput =
  { kind: 'url'; url: string; ref?: string; where: string } | { kind: 'upload'; file: MediaFile; ref: string; where: string };

export interface SubmitPlan {
  inputs: PlannedInput[];
  /** Job fields from JSON inputs (`model`, `metadata`, …); a later input's win. */
  fields: Record<string, unknown>;
  /** One line per folder or archive: what was found in it (stderr). */
  found: string[];
  /** Open archives; closed by `close()`. */
  close: () => void;
}

export interface PlanOptions extends SelectOptions {
  inputFormat?: InputFormat;
}

/**
 * Reads every PATH of `submit` into the job's inputs, in the order given: `-` and files that are
 * not media are URL lists (as before), a folder contributes its media files (recursively), a
 * `.zip` its media entries, a media file itself. `--include`/`--exclude` choose among the files
 * found in folders and archives; a file named on the command line is taken as it is. Nothing is
 * uploaded here, and every problem found is reported before anything is.
 */
export async function planSubmit(io: CliIo, paths: readonly string[], opts: PlanOptions): Promise<SubmitPlan> {
  const select = createSelector(opts);
  const inputs: PlannedInput[] = [];
  const found: string[] = [];
  const archives: ZipArchive[] = [];
  let fields: Record<string, unknown> = {};
  const close = () => archives.forEach((a) => a.close());
  try {
    for (const path of paths) {
      if (path === '-') {
        fields = { ...fields, ...(await addUrlList(io, path, opts.inputFormat, inputs)) };
        continue;
      }
      const absolute = resolve(io.cwd, path);
      const info = await stat(absolute).catch((err: unknown) => {
        throw new CliError(`cannot read ${path}: ${describeFsError(err)}`);
      });
      if (info.isDirectory()) {
        const scan = await scanFolder(absolute, select);
        const shown = path.endsWith('/') ? path : `${path}/`;
        for (const file of scan.files) inputs.push({ kind: 'upload', file, ref: file.ref, where: shown + file.ref });
        found.push(foundLine(shown, scan.files.length, scan.skipped));
      } else if (/\.zip$/i.test(path)) {
        const scan = await ZipArchive.scan(absolute, path, select);
        archives.push(scan.archive);
        for (const file of scan.files) inputs.push({ kind: 'upload', file, ref: file.ref, where: `${path}: ${file.ref}` });
        found.push(foundLine(path, scan.files.length, scan.skipped));
      } else if (isMediaName(path)) {
        const file: DiskFile = { kind: 'disk', path: absolute, ref: basename(absolute), size: info.size, mtimeMs: info.mtimeMs };
        inputs.push({ kind: 'upload', file, ref: file.ref, where: path });
      } else {
        fields = { ...fields, ...(await addUrlList(io, path, opts.inputFormat, inputs)) };
      }
    }
    if (inputs.length === 0) throw new InputError(`nothing to submit: ${found.join('; ')}`);
    const tooLong = inputs.filter((i) => i.kind === 'upload' && i.ref.length > MAX_REF_LENGTH);
    if (tooLong.length > 0)
      throw new InputError(
        `${tooLong.length} file path${tooLong.length === 1 ? ' is' : 's are'} longer than the ${MAX_REF_LENGTH} characters a ref may have; nothing was submitted:`,
        undefined,
        false,
        tooLong.map((i) => i.where),
      );
    return { inputs, fields, found, close };
  } catch (err) {
    close();
    throw err;
  }
}

async function addUrlList(
  io: CliIo,
  path: string,
  format: InputFormat | undefined,
  inputs: PlannedInput[],
): Promise<Record<string, unknown>> {
  const { text, source } = await readInput(io, path);
  const list = parseSubmitInput(text, source, format);
  list.files.forEach((f, i) =>
    inputs.push({ kind: 'url', url: f.url, ...(f.ref ? { ref: f.ref } : {}), where: `${source} ${list.locations[i]}` }),
  );
  return list.fields;
}

function foundLine(shown: string, files: number, skipped: number): string {
  const other = skipped > 0 ? ` (${skipped} other file${skipped === 1 ? '' : 's'} skipped)` : '';
  return `${shown}: ${files} audio/video file${files === 1 ? '' : 's'}${other}`;
}

/** FILE's text, or stdin's for `-`; relative paths are taken from where the user ran the command. */
export async function readInput(io: CliIo, file: string): Promise<{ text: string; source: string }> {
  if (file === '-') {
    if (io.stdin.isTTY) io.stderr.write('reading URLs from stdin, one per line; end with Ctrl-D\n');
    return { text: await readAll(io.stdin), source: 'stdin' };
  }
  try {
    return { text: await readFile(resolve(io.cwd, file), 'utf8'), source: file };
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}
