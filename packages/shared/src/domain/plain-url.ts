/**
 * A _plain_ URL: `http://` or `https://` in any case; a host of dot-separated labels of
 * letters, digits and hyphens, none starting `xn--` (its punycode could be invalid), the last
 * starting with a letter (so it is a domain, never an IPv4 address that could be out of range);
 * no port, no credentials; then nothing, or one of `/?#` and printable ASCII but `"` and `\`.
 * WHATWG parsing accepts every such URL (paths, queries and fragments are percent-encoded,
 * never refused), so the `fileUrl` schema does when it is no longer than MAX_URL_LENGTH (which
 * callers check), and JSON writes it as it is. Tests hold both forms below to the schema
 * (packages/shared/test/file-url.test.ts, apps/api/test/job-body-scan.test.ts).
 */
const PLAIN_URL = /^https?:\/\/(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*(?:[/?#][\x21\x23-\x5b\x5d-\x7e]*)?$/i;
const PUNYCODE_LABEL = /^https?:\/\/(?:[^/?#]*\.)?xn--/i;

/** Whether `u` is a plain URL, matched far faster than URL.canParse parses it. */
export function isPlainUrl(u: string): boolean {
  return PLAIN_URL.test(u) && !PUNYCODE_LABEL.test(u);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HOST = 1;
const LETTER = 2;
const PATH = 4;
/** What each byte may be in a plain URL: a host character, a letter, a path character. */
const CLASS = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) if (c !== QUOTE && c !== BACKSLASH) CLASS[c]! |= PATH;
for (const c of Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')) CLASS[c]! |= HOST | LETTER;
for (const c of Buffer.from('0123456789-')) CLASS[c]! |= HOST;

const lower = (c: number | undefined) => (c ?? 0) | 0x20;

/**
 * isPlainUrl over bytes, without making a string: `p` at a URL's first byte, the offset just
 * past the plain URL that starts there, else -1. What ends it (a quote, a line end) is the
 * caller's to check: a byte that cannot be in a plain URL.
 */
export function plainUrlEnd(buf: Buffer, p: number): number {
  if (lower(buf[p]) !== 0x68 || lower(buf[p + 1]) !== 0x74 || lower(buf[p + 2]) !== 0x74 || lower(buf[p + 3]) !== 0x70) return -1;
  let q = p + 4;
  if (lower(buf[q]) === 0x73) q++;
  if (buf[q] !== 0x3a || buf[q + 1] !== 0x2f || buf[q + 2] !== 0x2f) return -1;
  q += 3;
  for (;;) {
    const label = q;
    if (lower(buf[q]) === 0x78 && lower(buf[q + 1]) === 0x6e && buf[q + 2] === 0x2d && buf[q + 3] === 0x2d) return -1;
    while (CLASS[buf[q] ?? 0]! & HOST) q++;
    if (q === label) return -1;
    if (buf[q] === 0x2e) {
      q++;
      continue;
    }
    if (!(CLASS[buf[label]!]! & LETTER)) return -1;
    break;
  }
  const next = buf[q];
  if (next === 0x2f || next === 0x3f || next === 0x23) {
    q++;
    while (CLASS[buf[q] ?? 0]! & PATH) q++;
  }
  return q;
}
