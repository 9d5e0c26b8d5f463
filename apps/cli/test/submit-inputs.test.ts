import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { processIo, type CliIo } from '../src/io.js';
import { planSubmit } from '../src/submit-inputs.js';
import { writeZip } from './zip-fixture.js';

let dir: string;
const io = (stdin = ''): CliIo => ({ ...processIo(), cwd: dir, stdin: Readable.from([Buffer.from(stdin)]) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bs-cli-plan-'));
  await mkdir(join(dir, 'meetings/2026'), { recursive: true });
  await writeFile(join(dir, 'meetings/2026/b.m4a'), 'bb');
  await writeFile(join(dir, 'meetings/a.wav'), 'a');
  await writeFile(join(dir, 'meetings/notes.txt'), 'n');
  await writeFile(join(dir, 'urls.txt'), 'https://media.example.com/u1.wav\n# comment\nhttps://media.example.com/u2.wav\n');
  await writeFile(join(dir, 'single.MP3'), 'sss');
  await mkdir(join(dir, 'empty'));
  await writeZip(join(dir, 'export.zip'), [
    { name: 'call/x.opus', data: Buffer.from('xx') },
    { name: 'readme.md', data: Buffer.from('r') },
  ]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('planSubmit: URL lists, folders, archives and files, mixed, in the order given', () => {
  it('when a URL list, a folder, a zip, a media file and stdin are given, then the inputs follow that order with refs and places', async () => {
    const plan = await planSubmit(io('https://media.example.com/s.wav'), ['urls.txt', 'meetings', 'export.zip', 'single.MP3', '-'], {});
    try {
      expect(
        plan.inputs.map((i) => (i.kind === 'url' ? ['url', i.url, i.where] : ['upload', i.ref, i.where, i.file.kind, i.file.size])),
      ).toEqual([
        ['url', 'https://media.example.com/u1.wav', 'urls.txt line 1'],
        ['url', 'https://media.example.com/u2.wav', 'urls.txt line 3'],
        ['upload', '2026/b.m4a', 'meetings/2026/b.m4a', 'disk', 2],
        ['upload', 'a.wav', 'meetings/a.wav', 'disk', 1],
        ['upload', 'call/x.opus', 'export.zip: call/x.opus', 'zip', 2],
        ['upload', 'single.MP3', 'single.MP3', 'disk', 3],
        ['url', 'https://media.example.com/s.wav', 'stdin line 1'],
      ]);
      expect(plan.found).toEqual([
        'meetings/: 2 audio/video files (1 other file skipped)',
        'export.zip: 1 audio/video file (1 other file skipped)',
      ]);
    } finally {
      plan.close();
    }
  });

  it('when --include is given, then it chooses in folders and archives but a file named on the command line is taken as it is', async () => {
    const plan = await planSubmit(io(), ['meetings/', 'export.zip', 'single.MP3'], { include: ['*.wav'] });
    try {
      expect(plan.inputs.map((i) => i.where)).toEqual(['meetings/a.wav', 'single.MP3']);
    } finally {
      plan.close();
    }
  });

  it('when nothing is found, then the error says what each folder held', async () => {
    await expect(planSubmit(io(), ['empty', 'meetings'], { include: ['nothing-*'] })).rejects.toThrow(
      'nothing to submit: empty/: 0 audio/video files; meetings/: 0 audio/video files (3 other files skipped)',
    );
  });

  it('when a path does not exist, then the error names it', async () => {
    await expect(planSubmit(io(), ['meetings', 'missing-folder'], {})).rejects.toThrow(
      'cannot read missing-folder: no such file or directory',
    );
  });

  it('when a file’s path is longer than a ref may be, then every such file is listed and nothing is planned', async () => {
    const deep = join(dir, 'deep', ...Array.from({ length: 30 }, () => 'a-long-folder-name'));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'x.m4a'), 'x');
    await expect(planSubmit(io(), ['deep'], {})).rejects.toMatchObject({
      message: '1 file path is longer than the 256 characters a ref may have; nothing was submitted:',
      details: [expect.stringMatching(/^deep\/a-long-folder-name\/.*\/x\.m4a$/)],
    });
  });
});
