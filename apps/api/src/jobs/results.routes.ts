import { Router, type Response } from 'express';
import { z } from 'zod';
import {
  FILE_STATUSES,
  TRANSCRIPT_CONTENT_TYPES,
  normalizeTranscription,
  toFileResult,
  toPlainText,
  toSrt,
  toWebVtt,
  type FileRecord,
  type FileResult,
  type JobReader,
  type Transcript,
} from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, encodeCursor, pageQuery } from '../http/cursor.js';
import { ProblemError } from '../http/problem.js';
import { parseOr400 } from '../http/validation.js';
import { jobIdParam } from './jobs.routes.js';

export const resultsQuery = pageQuery(1000, 100).extend({ status: z.enum(FILE_STATUSES).optional() });
export const transcriptQuery = z.object({ format: z.enum(['json', 'txt', 'srt', 'vtt', 'raw']).default('json') });
const NDJSON_CHUNK = 500;

function normalizeOrNull(raw: unknown): Transcript | null {
  if (raw === null || raw === undefined) return null;
  try {
    return normalizeTranscription(raw);
  } catch {
    return null;
  }
}

async function fileResults(reader: JobReader, jobId: string, files: Array<{ index: number; record: FileRecord }>): Promise<FileResult[]> {
  const withTranscript = files.filter((f) => f.record.s === 'completed').map((f) => f.index);
  const raws = await reader.readRawTranscripts(jobId, withTranscript);
  const byIndex = new Map(withTranscript.map((index, i) => [index, normalizeOrNull(raws[i])]));
  return files.map((f) => toFileResult(f.index, f.record, byIndex.get(f.index) ?? null));
}

/** Writes and waits for the socket to drain, so a slow reader holds memory at one chunk. */
async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
}

export function resultsRoutes(deps: { reader: JobReader }): Router {
  const router = Router();

  router.get('/v1/jobs/:id/results', async (req, res) => {
    const jobId = jobIdParam(req);
    const q = parseOr400(resultsQuery, req.query, 'The query');
    const start = q.cursor === undefined ? 0 : decodeCursor(q.cursor, z.number().int().min(0));
    const job = await deps.reader.getJob(jobId, tenantOf(req));
    if (!job) throw new ProblemError('not-found', 'No such job.');
    const status = q.status ?? null;

    if (/application\/x-ndjson/i.test(req.get('accept') ?? '')) {
      res.status(200).type('application/x-ndjson');
      let next: number | null = start;
      let closed = false;
      res.on('close', () => (closed = true));
      while (next !== null && !closed) {
        const page = await deps.reader.readFiles(jobId, job.counts.total, { start: next, limit: NDJSON_CHUNK, status });
        const results = await fileResults(deps.reader, jobId, page.files);
        if (results.length > 0) await write(res, results.map((r) => JSON.stringify(r)).join('\n') + '\n');
        next = page.next;
      }
      res.end();
      return;
    }

    const page = await deps.reader.readFiles(jobId, job.counts.total, { start, limit: q.limit, status });
    res.json({ data: await fileResults(deps.reader, jobId, page.files), next_cursor: page.next === null ? null : encodeCursor(page.next) });
  });

  router.get('/v1/jobs/:id/files/:index/transcript', async (req, res) => {
    const jobId = jobIdParam(req);
    const { format } = parseOr400(transcriptQuery, req.query, 'The query');
    const index = Number(req.params.index);
    const job = await deps.reader.getJob(jobId, tenantOf(req));
    if (!job) throw new ProblemError('not-found', 'No such job.');
    if (!Number.isInteger(index) || index < 0 || index >= job.counts.total)
      throw new ProblemError('not-found', `The job has no file ${req.params.index}.`);
    const file = await deps.reader.readFile(jobId, index);
    const [raw] = await deps.reader.readRawTranscripts(jobId, [index]);
    // A failed file may still keep the raw upstream answer that could not be parsed: only `raw` shows it.
    if (raw === null || raw === undefined || (file?.s !== 'completed' && format !== 'raw')) {
      throw new ProblemError('not-found', `File ${index} has no transcript${file?.s === 'failed' ? ' (it failed)' : ' yet'}.`);
    }
    res.type(TRANSCRIPT_CONTENT_TYPES[format]);
    if (format === 'raw') {
      res.send(JSON.stringify(raw));
      return;
    }
    const transcript = normalizeTranscription(raw);
    const body =
      format === 'json'
        ? JSON.stringify(transcript)
        : format === 'txt'
          ? toPlainText(transcript)
          : format === 'srt'
            ? toSrt(transcript)
            : toWebVtt(transcript);
    res.send(body);
  });

  return router;
}
