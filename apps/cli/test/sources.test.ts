import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { scanFolder } from '../src/sources/folder.js';
import { createSelector, isMediaName, MEDIA_EXTENSIONS } from '../src/sources/media-names.js';
import { ZipArchive } from '../src/sources/zip-archive.js';
import { noise, patchZipNames, writeZip } from './zip-fixture.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bs-cli-sources-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function tree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

describe('media names', () => {
  it.each(MEDIA_EXTENSIONS.flatMap((ext) => [`a.${ext}`, `A.${ext.toUpperCase()}`, `x.y.${ext[0]!.toUpperCase()}${ext.slice(1)}`]))(
    'when a file is named %s, then it is media',
    (name) => expect(isMediaName(name)).toBe(true),
  );

  it.each(['notes.txt', 'm4a', '.m4a', 'a.m4a.txt', 'a.', 'a.zip', 'mp3', 'a.mp33'])(
    'when a file is named %j, then it is not media',
    (name) => expect(isMediaName(name)).toBe(false),
  );
});

describe('createSelector: extensions, junk, --include and --exclude', () => {
  it('when there are no globs, then media files are taken at any depth, and hidden files, ._ companions and __MACOSX are not', () => {
    const take = createSelector({});
    expect(take('standup.m4a')).toBe(true);
    expect(take('2026/11/Standup.M4A')).toBe(true);
    expect(take('notes.txt')).toBe(false);
    expect(take('.hidden.m4a')).toBe(false);
    expect(take('a/.git/x.mp3')).toBe(false);
    expect(take('a/._standup.m4a')).toBe(false);
    expect(take('__MACOSX/a/standup.m4a')).toBe(false);
  });

  it('when --include has a glob without a slash, then it matches file names at any depth', () => {
    const take = createSelector({ include: ['standup-*'] });
    expect(take('standup-1.m4a')).toBe(true);
    expect(take('2026/11/standup-2.mp4')).toBe(true);
    expect(take('2026/11/review.mp4')).toBe(false);
  });

  it('when --include has a glob with a slash, then it matches the whole path', () => {
    const take = createSelector({ include: ['2026/**'] });
    expect(take('2026/11/a.m4a')).toBe(true);
    expect(take('2025/2026/a.m4a')).toBe(false);
  });

  it('when --include is given several times, then a file matching any of them is taken; --exclude wins over --include', () => {
    const take = createSelector({ include: ['*.m4a', '*.wav'], exclude: ['**/raw/**', 'draft-*'] });
    expect(take('a/x.m4a')).toBe(true);
    expect(take('a/x.wav')).toBe(true);
    expect(take('a/x.mp4')).toBe(false);
    expect(take('a/raw/x.m4a')).toBe(false);
    expect(take('b/draft-1.wav')).toBe(false);
  });

  it('when a glob would take a file that is not media, then it is still not taken (the api refuses it)', () => {
    expect(createSelector({ include: ['*'] })('notes.txt')).toBe(false);
  });

  it('when a glob is empty, then it is an error naming the flag', () => {
    expect(() => createSelector({ exclude: [' '] })).toThrow('--exclude: an empty glob matches nothing');
  });
});

describe('scanFolder', () => {
  it('when a folder has media in nested folders, then each is listed depth first by name with its path as ref, the rest counted as skipped', async () => {
    const root = join(dir, 'walk');
    await tree(root, {
      'b.m4a': 'b',
      'a/z.MP3': 'z',
      'a/b/c.wav': 'c',
      'a/readme.txt': 'r',
      '.DS_Store': 'x',
      'A.mp4': 'upper',
      'a/._z.MP3': 'appledouble',
    });
    const scan = await scanFolder(root, createSelector({}));
    expect(scan.files.map((f) => f.ref)).toEqual(['A.mp4', 'a/b/c.wav', 'a/z.MP3', 'b.m4a']);
    expect(scan.skipped).toBe(3);
    const c = scan.files[1]!;
    expect(c).toMatchObject({ kind: 'disk', path: join(root, 'a/b/c.wav'), size: 1 });
    expect(c.mtimeMs).toBeGreaterThan(0);
  });

  it('when the folder holds links, then a link to a file is taken and a link to a folder is not followed', async () => {
    const root = join(dir, 'links');
    await tree(root, { 'real/x.m4a': 'x', 'elsewhere/y.m4a': 'yy' });
    await symlink(join(root, 'elsewhere/y.m4a'), join(root, 'real/link.m4a'));
    await symlink(root, join(root, 'real/loop'));
    const scan = await scanFolder(join(root, 'real'), createSelector({}));
    expect(scan.files.map((f) => [f.ref, f.size])).toEqual([
      ['link.m4a', 2],
      ['x.m4a', 1],
    ]);
  });

  it('when --exclude and --include are given, then they choose among the files by their refs', async () => {
    const root = join(dir, 'globbed');
    await tree(root, { 'keep/a.m4a': 'a', 'keep/raw/b.m4a': 'b', 'other/c.wav': 'c' });
    const scan = await scanFolder(root, createSelector({ include: ['keep/**'], exclude: ['**/raw/**'] }));
    expect(scan.files.map((f) => f.ref)).toEqual(['keep/a.m4a']);
    expect(scan.skipped).toBe(2);
  });

  it('when the folder does not exist, then the error names it', async () => {
    await expect(scanFolder(join(dir, 'missing'), createSelector({}))).rejects.toThrow(
      /cannot read folder .*missing: no such file or directory/,
    );
  });
});

describe('ZipArchive.scan', () => {
  it('when a zip holds media in folders, stored and deflated, then its media entries are listed by path with size and CRC, folders and junk left out', async () => {
    const path = join(dir, 'meetings.zip');
    await writeZip(path, [
      { name: 'meetings/', data: Buffer.alloc(0) },
      { name: 'meetings/2026/b.m4a', data: noise(5000, 2), compress: false },
      { name: 'meetings/2026/a.MP4', data: Buffer.alloc(9000, 7), compress: true },
      { name: 'meetings/notes.txt', data: Buffer.from('notes') },
      { name: '__MACOSX/meetings/2026/._b.m4a', data: Buffer.from('fork') },
      { name: 'top.wav', data: noise(10, 3) },
    ]);
    const scan = await ZipArchive.scan(path, 'meetings.zip', createSelector({}));
    try {
      expect(scan.files.map((f) => [f.ref, f.size])).toEqual([
        ['meetings/2026/a.MP4', 9000],
        ['meetings/2026/b.m4a', 5000],
        ['top.wav', 10],
      ]);
      expect(scan.skipped).toBe(2);
      expect(scan.files.every((f) => f.kind === 'zip' && f.archive === scan.archive && Number.isInteger(f.crc32))).toBe(true);
      expect(ZipArchive.canSeek(scan.files[1]!.entry)).toBe(true);
      expect(ZipArchive.canSeek(scan.files[0]!.entry)).toBe(false);
    } finally {
      scan.archive.close();
    }
  });

  it('when an entry climbs out with ../, then the archive is refused, naming it, before anything is uploaded', async () => {
    const path = join(dir, 'hostile.zip');
    await writeZip(path, [{ name: 'xx/evil.m4a', data: Buffer.from('x') }]);
    await patchZipNames(path, 'xx/evil', '../evil');
    await expect(ZipArchive.scan(path, 'hostile.zip', createSelector({}))).rejects.toThrow(/^hostile\.zip: .*\.\.\/evil\.m4a/);
  });

  it('when an entry has an absolute path, then the archive is refused', async () => {
    const path = join(dir, 'absolute.zip');
    await writeZip(path, [{ name: 'x/etc.m4a', data: Buffer.from('x') }]);
    await patchZipNames(path, 'x/etc', '/etc/');
    await expect(ZipArchive.scan(path, 'absolute.zip', createSelector({}))).rejects.toThrow(/^absolute\.zip: .*absolute path/);
  });

  it('when the file is not a zip, then the error says so', async () => {
    const path = join(dir, 'fake.zip');
    await writeFile(path, 'not a zip at all');
    await expect(ZipArchive.scan(path, 'fake.zip', createSelector({}))).rejects.toThrow(/^fake\.zip is not a readable zip archive: /);
  });

  it('when the zip does not exist, then the error names it', async () => {
    await expect(ZipArchive.scan(join(dir, 'none.zip'), 'none.zip', createSelector({}))).rejects.toThrow(
      'cannot read none.zip: no such file or directory',
    );
  });
});
