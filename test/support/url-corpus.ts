import { MAX_URL_LENGTH } from '@batchscribe/shared';
import { prng } from './prng.js';

/**
 * URLs to hold the fast URL checks to the `fileUrl` schema with: hand-picked hostile ones, and
 * seeded generators of more (a failure names an input that can be run again).
 */

export const HOSTILE_URLS = [
  'https://media.example.com/recordings/call-000001.m4a',
  'HTTPS://EXAMPLE.COM/A.WAV',
  'http://localhost/a.wav',
  'https://a/b?c=d#e',
  'https://a#frag',
  'https://a?q',
  'https://1.2.3.4/a.wav',
  'https://1.2.3.999/a.wav',
  'https://example.123/a.wav',
  'https://a.0x1f/a.wav',
  'https://0x7f000001/a.wav',
  'https://a.b0x/a.wav',
  'https://xn--zz/a.wav',
  'https://a.xn--zz.com/a.wav',
  'https://xn--nxasmq6b.com/a.wav',
  'https://a..b/a.wav',
  'https://.a/a.wav',
  'https://a./a.wav',
  'https://-a-.com/a.wav',
  'https://a_b.com/a.wav',
  'https://a:99999/a.wav',
  'https://a:8443/a.wav',
  'https://u:p@a/a.wav',
  'https://@a/a.wav',
  'https:///a/a.wav',
  'https:/a/a.wav',
  'https:a/a.wav',
  'https://a/\\b',
  'https://a\\b/c',
  'https://a/%zz',
  'https://a/"<>`{}|^',
  'https://a/é.wav',
  'https://é.com/a.wav',
  'https://a/b c',
  'https://a/b\tc',
  'https://a/\u0000',
  'https://a/\u00a0',
  'https://a/\u3000',
  'https://a/\ud800',
  'https://a/😀',
  'https://[::1]/a.wav',
  'https://[::1/a.wav',
  'https://%41.com/a.wav',
  'ftp://a/a.wav',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '',
  'https://',
  'http://a',
  `https://a/${'x'.repeat(MAX_URL_LENGTH - 10)}`,
  `https://a/${'x'.repeat(MAX_URL_LENGTH)}`,
];

/** Pieces URLs are made of, hostile ones weighted in, glued at random. */
const PIECES = [
  'https://',
  'http://',
  'HTTP://',
  'a',
  'Z',
  '0',
  '9',
  '-',
  '.',
  'xn--',
  '0x',
  ':',
  '8080',
  '@',
  '/',
  '//',
  '\\',
  '?',
  '#',
  '%',
  '%2',
  'é',
  ' ',
  '\t',
  '[',
  ']',
  '::1',
  '255',
  '256',
  '"',
  '_',
  '~',
  '\u0085',
  '\ud83d',
  '\ude00',
];

export function randomUrl(next: () => number): string {
  let s = next() < 0.8 ? PIECES[Math.floor(next() * 3)]! : '';
  const n = 1 + Math.floor(next() * 12);
  for (let i = 0; i < n; i++) s += PIECES[3 + Math.floor(next() * (PIECES.length - 3))]!;
  return s;
}

const LABELS = ['a', 'z9', '0', '255', '256', '4294967296', '0x', '0x1F', '0xg', 'xn--', 'xn--zz', 'XN--nxasmq6b', '-', 'a-', '-a', 'a1-b'];

/** A host-and-path URL near the fast checks' edges: numeric labels, `xn--`, hyphens, every printable byte in the path. */
export function edgeUrl(next: () => number): string {
  const pick = (xs: readonly string[]) => xs[Math.floor(next() * xs.length)]!;
  const printable = () => String.fromCharCode(0x21 + Math.floor(next() * 94));
  const labels = Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(LABELS));
  let path = pick(['', '/', '?', '#']);
  if (path !== '') for (let k = Math.floor(next() * 8); k > 0; k--) path += printable();
  return `${pick(['https://', 'http://', 'HtTpS://'])}${labels.join('.')}${path}`;
}

/** The hostile URLs, then `each` glued and `each` edge URLs from `seed`. */
export function urlCorpus(seed: number, each = 20_000): string[] {
  const next = prng(seed);
  return [...HOSTILE_URLS, ...Array.from({ length: each }, () => randomUrl(next)), ...Array.from({ length: each }, () => edgeUrl(next))];
}
