import picomatch from 'picomatch';
import { mediaExtensionOf } from '@batchscribe/shared/uploads';
import { CliError } from '../errors.js';

// The extensions foxapi takes, one list with the api's (which refuses others with 415): a folder
// or archive contributes only these, and a file argument with another extension is a URL list.
export { MEDIA_EXTENSIONS } from '@batchscribe/shared/uploads';

/** `Standup.M4A` → true; `notes.txt`, `m4a` (no dot) → false. */
export function isMediaName(name: string): boolean {
  return mediaExtensionOf(name) !== null;
}

/** `a/b.m4a` → `b.m4a`; `.m4a` files use it too. */
export function baseName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/**
 * Names no user means to send: hidden files and folders (`.DS_Store`, `.git/`), macOS's
 * AppleDouble companions (`._standup.m4a`, which carry a media extension but no media) and the
 * `__MACOSX/` folder of a zip made on a Mac.
 */
export function isJunkSegment(segment: string): boolean {
  return segment.startsWith('.') || segment === '__MACOSX';
}

export interface SelectOptions {
  include?: readonly string[];
  exclude?: readonly string[];
}

/**
 * Whether a file found in a folder or archive goes into the job, by its ref (the path relative to
 * the folder or archive, forward slashes): a media extension, no hidden or junk segment, one of
 * the `--include` globs if any, none of the `--exclude` globs. A glob without a slash matches the
 * file's name at any depth (`*.m4a`, `standup-*`); one with a slash matches the whole ref
 * (`2026/**`, `meetings/raw/*`).
 */
export function createSelector(opts: SelectOptions): (ref: string) => boolean {
  const include = compile(opts.include ?? [], '--include');
  const exclude = compile(opts.exclude ?? [], '--exclude');
  return (ref) => {
    if (!isMediaName(baseName(ref))) return false;
    if (ref.split('/').some(isJunkSegment)) return false;
    if (include && !include(ref)) return false;
    return !(exclude && exclude(ref));
  };
}

function compile(globs: readonly string[], flag: string): ((ref: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  for (const glob of globs) if (glob.trim() === '') throw new CliError(`${flag}: an empty glob matches nothing`);
  // Split by hand rather than with picomatch's `basename` option, which also applies it to
  // globs that have a slash. dot: the junk rule already drops hidden names.
  const onName = globs.filter((g) => !g.includes('/'));
  const onPath = globs.filter((g) => g.includes('/'));
  const name = onName.length > 0 ? picomatch(onName, { dot: true }) : undefined;
  const path = onPath.length > 0 ? picomatch(onPath, { dot: true }) : undefined;
  return (ref) => (name?.(baseName(ref)) ?? false) || (path?.(ref) ?? false);
}
