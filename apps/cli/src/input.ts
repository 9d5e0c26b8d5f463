import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { urlListEntries } from '@batchscribe/shared/url-list';
import { CliError } from './errors.js';

export const INPUT_FORMATS = ['lines', 'csv', 'json'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface SubmitFile {
  url: string;
  ref?: string;
}

export interface SubmitInput {
  files: SubmitFile[];
  /** Where each file came from (`line 7`, `item 2`, `files[3]`), by index: names inputs in the API's errors. */
  locations: string[];
  /** Other job fields from a JSON object input (`model`, `metadata`, …); flags override them. */
  fields: Record<string, unknown>;
}

export class InputError extends CliError {
  override readonly name = 'InputCliError';
}

/** One input entry and where it is, or what is wrong with it. */
type Entry = { file: SubmitFile; where: string } | { problem: string; where: string };

/**
 * Every entry checked before any request: all good, or one error listing each bad entry with
 * its line (or item), so a file is fixed in one pass rather than one line per attempt.
 */
function collect(entries: readonly Entry[], source: string, fields: Record<string, unknown> = {}): SubmitInput {
  const bad = entries.filter((e): e is Extract<Entry, { problem: string }> => 'problem' in e);
  const [first] = bad;
  // `urls.txt line 3: …`, `in.json: item 2: …`
  if (first && bad.length === 1)
    throw new InputError(`${source}${first.where.startsWith('line') ? ' ' : ': '}${first.where}: ${first.problem}`);
  if (first) {
    const unit = first.where.startsWith('line') ? 'lines' : 'entries';
    throw new InputError(
      `${source}: ${bad.length} ${unit} are not valid; nothing was submitted:`,
      undefined,
      false,
      bad.map((e) => `${e.where}: ${e.problem}`),
    );
  }
  const good = entries as ReadonlyArray<Extract<Entry, { file: SubmitFile }>>;
  return { files: good.map((e) => e.file), locations: good.map((e) => e.where), fields };
}

const EXTENSIONS: Record<string, InputFormat> = {
  '.json': 'json',
  '.csv': 'csv',
  '.txt': 'lines',
  '.list': 'lines',
  '.lst': 'lines',
  '.urls': 'lines',
};

/**
 * The input's format: a known extension decides; otherwise the content does — `[` or `{` first
 * is JSON, a first data line with a comma (or a `url` header) is CSV, anything else one URL a line.
 */
export function detectFormat(text: string, fileName?: string): InputFormat {
  const byExtension = fileName ? EXTENSIONS[extname(fileName).toLowerCase()] : undefined;
  if (byExtension) return byExtension;
  const body = stripBom(text).trimStart();
  if (body.startsWith('[') || body.startsWith('{')) return 'json';
  const firstLine = urlListEntries(body).next().value?.text ?? '';
  return firstLine.includes(',') || /^"?(file_)?url"?$/i.test(firstLine) ? 'csv' : 'lines';
}

/** Parses `submit`'s input; `source` names it in error messages (a path, or `stdin`). */
export function parseSubmitInput(text: string, source: string, format: InputFormat = detectFormat(text, source)): SubmitInput {
  const body = stripBom(text);
  const input = PARSERS[format](body, source);
  if (input.files.length === 0) throw new InputError(`${source}: no URLs found`);
  return input;
}

const PARSERS: Record<InputFormat, (body: string, source: string) => SubmitInput> = {
  json: parseJsonInput,
  csv: parseCsvInput,
  lines: parseLinesInput,
};

export function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value);
}

/** The list form reads lines, comments and CRLF as the api's text/plain intake does (one parser); the messages are the CLI's. */
function parseLinesInput(text: string, source: string): SubmitInput {
  return collect(
    Array.from(urlListEntries(text), ({ text: url, line }) => entry(url, `line ${line}`)),
    source,
  );
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

function parseCsvInput(text: string, source: string): SubmitInput {
  let records: CsvRecord[];
  try {
    records = parseCsv(text, {
      info: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // `#` starts a comment only at the start of a line: URLs may carry fragments.
      comment: '#',
      comment_no_infix: true,
    }) as unknown as CsvRecord[];
  } catch (err) {
    throw new InputError(`${source}: invalid CSV: ${(err as Error).message}`);
  }
  records = records.filter((r) => r.record.some((cell) => cell !== ''));
  const first = records[0]?.record ?? [];
  const header = first.map((cell) => cell.toLowerCase());
  const hasHeader = header.some((cell) => cell === 'url' || cell === 'file_url') && !first.some(isHttpUrl);
  const urlColumn = hasHeader ? header.findIndex((cell) => cell === 'url' || cell === 'file_url') : 0;
  const refColumn = hasHeader ? header.indexOf('ref') : 1;
  const entries = (hasHeader ? records.slice(1) : records).map(({ record, info }) => {
    const ref = refColumn >= 0 ? record[refColumn] : undefined;
    return entry(record[urlColumn] ?? '', `line ${info.lines}`, ref || undefined);
  });
  return collect(entries, source);
}

function parseJsonInput(text: string, source: string): SubmitInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: invalid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(json))
    return collect(
      json.map((item, i) => jsonEntry(item, `item ${i}`)),
      source,
    );
  if (typeof json === 'object' && json !== null) {
    const { file_urls: fileUrls, files, ...fields } = json as Record<string, unknown>;
    const [key, list] = fileUrls !== undefined ? ['file_urls', fileUrls] : ['files', files];
    if (fileUrls !== undefined && files !== undefined) throw new InputError(`${source}: give file_urls or files, not both`);
    if (Array.isArray(list))
      return collect(
        list.map((item, i) => jsonEntry(item, `${key}[${i}]`)),
        source,
        fields,
      );
  }
  throw new InputError(
    `${source}: JSON input must be an array of URLs, an array of {"url", "ref"} objects, or an object with "file_urls" or "files"`,
  );
}

function jsonEntry(item: unknown, where: string): Entry {
  if (typeof item === 'string') return entry(item, where);
  if (typeof item === 'object' && item !== null && typeof (item as { url?: unknown }).url === 'string') {
    const { url, ref } = item as { url: string; ref?: unknown };
    if (ref !== undefined && ref !== null && typeof ref !== 'string') return { problem: '"ref" must be a string', where };
    return entry(url, where, ref || undefined);
  }
  return { problem: 'must be a URL string or an object with a "url" string', where };
}

function entry(value: string, where: string, ref?: string): Entry {
  const url = value.trim();
  const problem = urlProblem(url);
  return problem ? { problem, where } : { file: { url, ...(ref ? { ref } : {}) }, where };
}

// Checked here as well as by the API so the message can name the input line. A space or a
// control character inside a URL is a pasting mistake (two URLs on a line, a stray tab or
// note), not something to send on percent-encoded.
const INNER_BLANK = /[\s\p{Cc}\p{Cf}]/u;

export function urlProblem(url: string): string | undefined {
  if (url === '') return 'missing URL';
  const blank = INNER_BLANK.exec(url);
  if (blank) return `${quoted(url)} contains ${describeChar(blank[0])} at character ${blank.index + 1}`;
  if (!isHttpUrl(url)) return `${quoted(url)} is not an http or https URL`;
  return undefined;
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  if (char === '\t') return 'a tab';
  const code = char.codePointAt(0) ?? 0;
  const kind = /\s/u.test(char) ? 'whitespace' : /\p{Cc}/u.test(char) ? 'a control character' : 'an invisible character';
  return `${kind} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Quoted and shortened, with control characters escaped so they cannot act on the terminal. */
function quoted(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
