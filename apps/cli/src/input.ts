import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { CliError } from './errors.js';

export const INPUT_FORMATS = ['lines', 'csv', 'json'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface SubmitFile {
  url: string;
  ref?: string;
}

export interface SubmitInput {
  files: SubmitFile[];
  /** Other job fields from a JSON object input (`model`, `metadata`, …); flags override them. */
  fields: Record<string, unknown>;
}

export class InputError extends CliError {
  override readonly name = 'InputCliError';
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
  const firstLine = dataLines(body)[0]?.text ?? '';
  return firstLine.includes(',') || /^"?(file_)?url"?$/i.test(firstLine) ? 'csv' : 'lines';
}

/** Parses `submit`'s input; `source` names it in error messages (a path, or `stdin`). */
export function parseSubmitInput(text: string, source: string, format: InputFormat = detectFormat(text, source)): SubmitInput {
  const body = stripBom(text);
  const input =
    format === 'json'
      ? parseJsonInput(body, source)
      : { files: format === 'csv' ? parseCsvInput(body, source) : parseLinesInput(body, source), fields: {} };
  if (input.files.length === 0) throw new InputError(`${source}: no URLs found`);
  return input;
}

export function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value);
}

function parseLinesInput(text: string, source: string): SubmitFile[] {
  return dataLines(text).map(({ text: url, lineNo }) => ({ url: checkedUrl(url, `${source} line ${lineNo}`) }));
}

/** Non-blank lines that are not `#` comments, trimmed (so CRLF works), with 1-based numbers. */
function dataLines(text: string): Array<{ text: string; lineNo: number }> {
  return text
    .split('\n')
    .map((line, i) => ({ text: line.trim(), lineNo: i + 1 }))
    .filter((line) => line.text !== '' && !line.text.startsWith('#'));
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

function parseCsvInput(text: string, source: string): SubmitFile[] {
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
  return (hasHeader ? records.slice(1) : records).map(({ record, info }) => {
    const where = `${source} line ${info.lines}`;
    const ref = refColumn >= 0 ? record[refColumn] : undefined;
    return { url: checkedUrl(record[urlColumn] ?? '', where), ...(ref ? { ref } : {}) };
  });
}

function parseJsonInput(text: string, source: string): SubmitInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: invalid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(json)) return { files: json.map((item, i) => jsonFile(item, `${source}: item ${i}`)), fields: {} };
  if (typeof json === 'object' && json !== null) {
    const { file_urls: fileUrls, files, ...fields } = json as Record<string, unknown>;
    const [key, list] = fileUrls !== undefined ? ['file_urls', fileUrls] : ['files', files];
    if (fileUrls !== undefined && files !== undefined) throw new InputError(`${source}: give file_urls or files, not both`);
    if (Array.isArray(list)) return { files: list.map((item, i) => jsonFile(item, `${source}: ${key}[${i}]`)), fields };
  }
  throw new InputError(
    `${source}: JSON input must be an array of URLs, an array of {"url", "ref"} objects, or an object with "file_urls" or "files"`,
  );
}

function jsonFile(item: unknown, where: string): SubmitFile {
  if (typeof item === 'string') return { url: checkedUrl(item, where) };
  if (typeof item === 'object' && item !== null && typeof (item as { url?: unknown }).url === 'string') {
    const { url, ref } = item as { url: string; ref?: unknown };
    if (ref !== undefined && ref !== null && typeof ref !== 'string') throw new InputError(`${where}: "ref" must be a string`);
    return { url: checkedUrl(url, where), ...(ref ? { ref } : {}) };
  }
  throw new InputError(`${where}: must be a URL string or an object with a "url" string`);
}

// Checked here as well as by the API so the message can name the input line.
function checkedUrl(value: string, where: string): string {
  const url = value.trim();
  if (!isHttpUrl(url)) throw new InputError(`${where}: ${url === '' ? 'missing URL' : `"${truncate(url)}" is not an http or https URL`}`);
  return url;
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
