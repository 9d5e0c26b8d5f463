import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { OutputNamer, sanitizeFileName, writeFileAtomic } from '../src/output-files.js';

describe('sanitizeFileName', () => {
  it.each([
    ['meeting-2026-11-02', 'meeting-2026-11-02'],
    ['team/weekly\\sync', 'team_weekly_sync'],
    ['a:b*c?d"e<f>g|h', 'a_b_c_d_e_f_g_h'],
    ['tab\there\nnewline', 'tab_here_newline'],
    ['..', ''],
    ['../../etc/passwd', '___.._etc_passwd'],
    ['.hidden', '_hidden'],
    ['  padded  ', 'padded'],
    ['trailing dots...', 'trailing dots'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['会议纪要 第1场', '会议纪要 第1场'],
    ['', ''],
    ['...', ''],
  ])('when the ref is %j, then the name is %j', (ref, name) => {
    expect(sanitizeFileName(ref)).toBe(name);
  });

  it('when the ref is very long, then the name stops at 200 bytes without splitting a character', () => {
    const name = sanitizeFileName('语'.repeat(100));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name).toBe('语'.repeat(66));
  });
});

describe('OutputNamer', () => {
  it('when inputs have refs, then files are named by ref with the extension', () => {
    const namer = new OutputNamer('srt');
    expect(namer.nameFor(0, 'standup')).toBe('standup.srt');
    expect(namer.nameFor(1, 'team/review')).toBe('team_review.srt');
  });

  it('when an input has no ref or a ref that sanitizes to nothing, then it is named by index', () => {
    const namer = new OutputNamer('txt');
    expect(namer.nameFor(0, null)).toBe('0.txt');
    expect(namer.nameFor(7, undefined)).toBe('7.txt');
    expect(namer.nameFor(8, '')).toBe('8.txt');
    expect(namer.nameFor(9, '/')).toBe('_.txt');
    expect(namer.nameFor(10, '..')).toBe('10.txt');
  });

  it('when refs clash, also by case, then later ones get -2, -3 in index order', () => {
    const namer = new OutputNamer('vtt');
    expect([namer.nameFor(0, 'call'), namer.nameFor(1, 'call'), namer.nameFor(2, 'CALL'), namer.nameFor(3, 'call-2')]).toEqual([
      'call.vtt',
      'call-2.vtt',
      'CALL-3.vtt',
      'call-2-2.vtt',
    ]);
  });

  it('when a ref looks like another input index, then the two files still get different names', () => {
    const namer = new OutputNamer('json');
    expect([namer.nameFor(0, '1'), namer.nameFor(1, null)]).toEqual(['1.json', '1-2.json']);
  });
});

describe('writeFileAtomic', () => {
  it('when it returns, then the file holds the content and no .part file is left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bs-cli-'));
    try {
      await writeFileAtomic(join(dir, 'a.txt'), 'hello');
      expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('hello');
      expect(await readdir(dir)).toEqual(['a.txt']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
