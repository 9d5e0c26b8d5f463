import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isMediaName } from './sources/media-names.js';

/** Room for a `-NN` de-duplication suffix and the extension under the usual 255-byte limit. */
const MAX_NAME_BYTES = 200;

// Windows device names are unusable as file names, with or without an extension.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

// Control characters (C0, DEL, C1), and the invisible and bidirectional formatting characters
// that make a name display as another (`evil\u202Egnp.srt`).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>:"/\\|?*]/g;

/** Folder levels kept from a ref: deeper ones are dropped, so a hostile ref cannot build a path no file system takes. */
const MAX_DEPTH = 16;

/**
 * A caller's `ref` as a file name that is safe on Linux, macOS and Windows: path separators,
 * reserved, control and invisible formatting characters become `_`, no leading dot (no hidden
 * files, no `..`), no trailing dot or space, no device names, at most 200 UTF-8 bytes. May return `''`.
 */
export function sanitizeFileName(ref: string): string {
  let name = ref
    .normalize('NFC')
    .replace(UNSAFE_CHARS, '_')
    .trim()
    .replace(/[. ]+$/, '')
    .replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  if (RESERVED.test(name)) name = `_${name}`;
  return truncateUtf8(name, MAX_NAME_BYTES).replace(/[. ]+$/, '');
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

/**
 * Names one output file per input, as a path relative to DIR. An input's name comes from its
 * `ref`, else its index. A URL input's ref is one file name (`team/review` → `team_review.srt`).
 * An uploaded file's ref is the path it had in its folder or archive, and keeps its folders
 * (`2026/11/standup.m4a` → `2026/11/standup.srt`): each level is made safe on its own
 * (sanitizeFileName), and levels that are empty, `.` or `..` are dropped, so no path leaves DIR
 * whatever the ref. On a clash — compared case-insensitively, for macOS and Windows, and between
 * files and folders too — `-2`, `-3`, … is appended. Feed it every input in index order
 * (including those without a transcript) and the names depend on the job's inputs alone, so a
 * second download after a retry names each file the same way.
 */
export class OutputNamer {
  private readonly files = new Set<string>();
  /** Folder path as the refs give it (sanitized, lower case) → the folder chosen for it. */
  private readonly folders = new Map<string, string>();
  private readonly folderKeys = new Set<string>();

  constructor(private readonly extension: string) {}

  /** A flat name: the ref as one file name. */
  nameFor(index: number, ref: string | null | undefined): string {
    return this.place('', (ref ? sanitizeFileName(ref) : '') || String(index));
  }

  /** A path keeping the ref's folders, the media extension replaced by the output's. */
  pathFor(index: number, ref: string | null | undefined): string {
    const levels = (ref ?? '').split(/[/\\]+/);
    const last = levels.pop() ?? '';
    const folders = levels
      .map(sanitizeFileName)
      .filter((level) => level !== '')
      .slice(0, MAX_DEPTH);
    const stem = isMediaName(last) ? last.slice(0, last.lastIndexOf('.')) : last;
    return this.place(this.folder(folders), sanitizeFileName(stem) || String(index));
  }

  private folder(levels: readonly string[]): string {
    let chosen = '';
    let asGiven = '';
    for (const level of levels) {
      asGiven += `${level.toLowerCase()}/`;
      const known = this.folders.get(asGiven);
      if (known !== undefined) {
        chosen = known;
        continue;
      }
      let candidate = level;
      for (let n = 2; this.files.has(`${chosen}${candidate}`.toLowerCase()); n++) candidate = `${level}-${n}`;
      chosen = `${chosen}${candidate}/`;
      this.folders.set(asGiven, chosen);
      this.folderKeys.add(chosen.slice(0, -1).toLowerCase());
    }
    return chosen;
  }

  private place(folder: string, base: string): string {
    const taken = (name: string) => {
      const key = `${folder}${name}.${this.extension}`.toLowerCase();
      return this.files.has(key) || this.folderKeys.has(key);
    };
    let candidate = base;
    for (let n = 2; taken(candidate); n++) candidate = `${base}-${n}`;
    const path = `${folder}${candidate}.${this.extension}`;
    this.files.add(path.toLowerCase());
    return path;
  }
}

/** Writes through a `.part` file and a rename, so an interrupted download leaves no half file. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.part`, content);
  await rename(`${path}.part`, path);
}
