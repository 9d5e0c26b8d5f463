import { rename, writeFile } from 'node:fs/promises';

/** Room for a `-NN` de-duplication suffix and the extension under the usual 255-byte limit. */
const MAX_NAME_BYTES = 200;

// Windows device names are unusable as file names, with or without an extension.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A caller's `ref` as a file name that is safe on Linux, macOS and Windows: path separators,
 * reserved and control characters become `_`, no leading dot (no hidden files, no `..`), no
 * trailing dot or space, no device names, at most 200 UTF-8 bytes. May return `''`.
 */
export function sanitizeFileName(ref: string): string {
  let name = ref
    .normalize('NFC')

    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
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
 * Names one output file per input: the sanitized `ref`, else the file's index; on a clash
 * (compared case-insensitively, for macOS and Windows) `-2`, `-3`, … is appended. Feed it every
 * input in index order — including those without a transcript — and the names depend on the
 * job's inputs alone, so a second download after a retry names each file the same way.
 */
export class OutputNamer {
  private readonly used = new Set<string>();

  constructor(private readonly extension: string) {}

  nameFor(index: number, ref: string | null | undefined): string {
    const base = (ref ? sanitizeFileName(ref) : '') || String(index);
    let candidate = base;
    for (let n = 2; this.used.has(this.key(candidate)); n++) candidate = `${base}-${n}`;
    this.used.add(this.key(candidate));
    return `${candidate}.${this.extension}`;
  }

  private key(name: string): string {
    return `${name}.${this.extension}`.toLowerCase();
  }
}

/** Writes through a `.part` file and a rename, so an interrupted download leaves no half file. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await writeFile(`${path}.part`, content);
  await rename(`${path}.part`, path);
}
