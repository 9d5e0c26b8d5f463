import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, describeFsError } from '../errors.js';

/** A media file on disk: what is uploaded, and what identifies it for resuming. */
export interface DiskFile {
  kind: 'disk';
  /** Absolute. */
  path: string;
  /** Relative to the folder it was found in, forward slashes (the file's own name for a file argument). */
  ref: string;
  size: number;
  mtimeMs: number;
}

export interface FolderScan {
  files: DiskFile[];
  /** Files seen but not selected (not media, hidden, excluded): reported so a surprise is visible. */
  skipped: number;
}

/**
 * Every file under `root` that `select` takes (by its ref), depth first with names in code-unit
 * order, so the same folder always gives the same list in the same order — the job's indexes and
 * the resume key depend on it. Links to files are followed; links to folders are not (a link
 * back up would never end). A folder that cannot be read stops the scan: a job silently missing
 * part of an archive is worse than an error.
 */
export async function scanFolder(root: string, select: (ref: string) => boolean): Promise<FolderScan> {
  const files: DiskFile[] = [];
  let skipped = 0;
  const visit = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new CliError(`cannot read folder ${dir}: ${describeFsError(err)}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const ref = prefix + entry.name;
      if (entry.isDirectory()) {
        await visit(path, `${ref}/`);
        continue;
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      if (!select(ref)) {
        skipped++;
        continue;
      }
      const info = await stat(path).catch((err: unknown) => {
        throw new CliError(`cannot read ${path}: ${describeFsError(err)}`);
      });
      if (!info.isFile()) {
        skipped++;
        continue;
      }
      files.push({ kind: 'disk', path, ref, size: info.size, mtimeMs: info.mtimeMs });
    }
  };
  await visit(root, '');
  return { files, skipped };
}
