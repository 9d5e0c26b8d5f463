import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
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

describe('OutputNamer.pathFor: an uploaded file keeps its folders, made safe', () => {
  it('when refs are paths from a folder or archive, then each keeps its folders and the media extension becomes the output’s', () => {
    const namer = new OutputNamer('srt');
    expect(namer.pathFor(0, '2026/11/standup.m4a')).toBe('2026/11/standup.srt');
    expect(namer.pathFor(1, '2026/review.MP4')).toBe('2026/review.srt');
    expect(namer.pathFor(2, 'top.wav')).toBe('top.srt');
    expect(namer.pathFor(3, 'notes.final')).toBe('notes.final.srt');
  });

  it.each([
    ['../../etc/passwd.m4a', 'etc/passwd.srt'],
    ['/etc/cron.d/x.m4a', 'etc/cron.d/x.srt'],
    ['a/./b/../c.m4a', 'a/b/c.srt'],
    ['C:\\Windows\\System32\\x.m4a', 'C_/Windows/System32/x.srt'],
    ['\\\\server\\share\\y.mp3', 'server/share/y.srt'],
    ['a\u0000b/c\u0007d.m4a', 'a_b/c_d.srt'],
    ['con/aux.m4a', '_con/_aux.srt'],
    ['LPT1.wav', '_LPT1.srt'],
    ['.git/hooks/pre-commit.m4a', '_git/hooks/pre-commit.srt'],
    ['dir. /x .m4a', 'dir/x.srt'],
    ['a/evil\u202egpj.m4a', 'a/evil_gpj.srt'],
    ['a/b\u0085c.m4a', 'a/b_c.srt'],
    ['a:b/c|d?.m4a', 'a_b/c_d_.srt'],
    ['//a///b//c.m4a', 'a/b/c.srt'],
    ['../.m4a', '_m4a.srt'],
  ])('when a hostile ref is %j, then the path is %j', (ref, path) => {
    expect(new OutputNamer('srt').pathFor(0, ref)).toBe(path);
  });

  it.each([['..'], ['.'], ['a/..'], ['/'], [''], ['a/   .m4a']])(
    'when the ref %j leaves no name, then the file is named by its index in its folder',
    (ref) => {
      expect(new OutputNamer('srt').pathFor(4, ref)).toMatch(/^(a\/)?4\.srt$/);
    },
  );

  it('when a ref is deeper than 16 folders, then the deeper folders are dropped', () => {
    const ref = `${Array.from({ length: 40 }, (_, i) => `d${i}`).join('/')}/x.m4a`;
    const path = new OutputNamer('srt').pathFor(0, ref);
    expect(path.split('/')).toHaveLength(17);
    expect(path.endsWith('/d15/x.srt')).toBe(true);
  });

  it('when paths clash, also by case or by extension, then later ones get -2 in index order, and a folder keeps one spelling', () => {
    const namer = new OutputNamer('srt');
    expect([
      namer.pathFor(0, 'Team/standup.m4a'),
      namer.pathFor(1, 'team/standup.mp4'),
      namer.pathFor(2, 'TEAM/Standup.wav'),
      namer.pathFor(3, 'team/other.m4a'),
    ]).toEqual(['Team/standup.srt', 'Team/standup-2.srt', 'Team/Standup-3.srt', 'Team/other.srt']);
  });

  it('when a folder and a file would have the same path, then whichever comes later is renamed', () => {
    const namer = new OutputNamer('srt');
    expect(namer.pathFor(0, 'x.m4a')).toBe('x.srt');
    expect(namer.pathFor(1, 'x.srt/y.m4a')).toBe('x.srt-2/y.srt');
    expect(namer.pathFor(2, 'x.srt/z.m4a')).toBe('x.srt-2/z.srt');
    expect(namer.pathFor(3, 'a.srt/b.m4a')).toBe('a.srt/b.srt');
    expect(namer.pathFor(4, 'a.m4a')).toBe('a-2.srt');
  });

  it('when URL inputs (flat names) and uploads share DIR, then their names do not clash either', () => {
    const namer = new OutputNamer('txt');
    expect(namer.nameFor(0, 'standup')).toBe('standup.txt');
    expect(namer.pathFor(1, 'standup.m4a')).toBe('standup-2.txt');
  });

  it('when 2,000 random hostile refs are named, then every path stays inside DIR, with no empty, dot or control-character level', () => {
    const pieces = [
      '..',
      '.',
      '',
      '/',
      '\\',
      'a',
      'CON',
      ' ',
      '\u0000',
      '\u001b[31m',
      '\u202e',
      'é',
      'e\u0301',
      ':',
      'x.m4a',
      '~',
      '$HOME',
    ];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return pieces[seed % pieces.length]!;
    };
    const namer = new OutputNamer('srt');
    const out = resolve('/tmp/out');
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const ref = Array.from({ length: 1 + (i % 9) }, pick).join(i % 2 ? '/' : '');
      const path = namer.pathFor(i, ref);
      const full = resolve(out, path);
      const inside = relative(out, full);
      expect(inside.startsWith('..') || isAbsolute(inside)).toBe(false);
      expect(inside).toBe(path);
      for (const level of path.split('/')) {
        expect(level).not.toMatch(/^\.|^$|^ | $|[\u0000-\u001f\u007f-\u009f\u202e\\:]/);
      }
      expect(seen.has(path.toLowerCase())).toBe(false);
      seen.add(path.toLowerCase());
    }
  });
});

describe('writeFileAtomic', () => {
  it('when the path has folders that do not exist yet, then they are created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bs-cli-'));
    try {
      await writeFileAtomic(join(dir, 'a/b/c.srt'), 'cue');
      expect(await readFile(join(dir, 'a/b/c.srt'), 'utf8')).toBe('cue');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

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
