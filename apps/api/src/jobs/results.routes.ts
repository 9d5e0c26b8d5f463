import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import { z } from 'zod';
import {
  requireJob,
  FILE_STATUSES,
  TRANSCRIPT_CONTENT_TYPES,
  fileResultJson,
  renderTranscript,
  transcriptLocation,
  type FileRecord,
  type JobReader,
  type Transcript,
  type TranscriptStore,
} from '@batchscribe/shared';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, encodeCursor, pageQuery } from '../http/cursor.js';
import { ProblemError } from '../http/problem.js';
import { parseOr400 } from '../http/validation.js';
import { orderedMap } from './ordered-map.js';
import { jobIdParam } from './jobs.routes.js';

const booleanParam = z.enum(['true', 'false'], { message: 'must be "true" or "false"' }).transform((v) => v === 'true');

export const resultsQuery = pageQuery(1000, 100).extend({
  status: z.enum(FILE_STATUSES).optional(),
  /** false: a listing without transcripts, which never touches the blob store. */
  include_transcript: booleanParam.default(true).meta({
    description: '`false`: each FileResult without its `transcript`, read without touching the blob store (fast listings of large jobs).',
  }),
});
export const transcriptQuery = z.object({ format: z.enum(['json', 'txt', 'srt', 'vtt', 'raw']).default('json') });

/** File records read from Redis per round of an NDJSON export (small: ~300 B each). */
const NDJSON_CHUNK = 500;
/**
 * Transcripts read, decompressed and normalized ahead of the one being written. An hour of
 * speech is ~0.8 MB of upstream JSON and a few MB once parsed, so this bounds the memory of a
 * response whatever the page size, while keeping the blob store and the CPU busy.
 */
const READ_AHEAD = 4;

type IndexedRecord = { index: number; record: FileRecord };

interface ResultsDeps {
  reader: JobReader;
  transcripts: TranscriptStore;
}

/**
 * One file's result as a JSON text. The transcript is read from the blob store only when wanted,
 * as the normalized JSON the worker stored, and set into place as text: an hour of speech is
 * never parsed on its way out.
 */
async function resultJson(deps: ResultsDeps, jobId: string, file: IndexedRecord, withTranscript: boolean): Promise<string> {
  // A reused file reads the transcript of the file that was transcribed (shared, not copied).
  const at = transcriptLocation(jobId, file.index, file.record);
  const transcript = withTranscript && file.record.s === 'completed' ? await deps.transcripts.readNormalized(at.jobId, at.index) : null;
  return fileResultJson(file.index, file.record, transcript);
}

/**
 * Writes an iterable of text pieces to the response honouring back-pressure; a client that goes
 * away stops the producer (pipeline destroys the source), so nothing more is read for it.
 */
async function stream(res: Response, pieces: Readable | AsyncIterable<string>): Promise<void> {
  const source = pieces instanceof Readable ? pieces : Readable.from(pieces, { objectMode: false, highWaterMark: 1 });
  try {
    await pipeline(source, res);
  } catch (err) {
    // Once the status is sent an error can only cut the response; a vanished client is no error.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}

export function resultsRoutes(deps: ResultsDeps): Router {
  const router = Router();

  router.get('/v1/jobs/:id/results', async (req, res) => {
    const jobId = jobIdParam(req);
    const q = parseOr400(resultsQuery, req.query, 'The query');
    const start = q.cursor === undefined ? 0 : decodeCursor(q.cursor, z.number().int().min(0));
    const job = await requireJob(deps.reader.withFiles, jobId, tenantOf(req));
    const status = q.status ?? null;
    const toJson = (file: IndexedRecord) => resultJson(deps, jobId, file, q.include_transcript);

    if (/application\/x-ndjson/i.test(req.get('accept') ?? '')) {
      async function* records(): AsyncGenerator<IndexedRecord> {
        let next: number | null = start;
        while (next !== null) {
          const page = await deps.reader.readFiles(job, { start: next, limit: NDJSON_CHUNK, status });
          yield* page.files;
          next = page.next;
        }
      }
      async function* lines(): AsyncGenerator<string> {
        for await (const json of orderedMap(records(), READ_AHEAD, toJson)) yield `${json}\n`;
      }
      res.status(200).type('application/x-ndjson');
      await stream(res, lines());
      return;
    }

    // A page of 1,000 hour-long transcripts is a GB of JSON: it is written as it is produced.
    const page = await deps.reader.readFiles(job, { start, limit: q.limit, status });
    const nextCursor = page.next === null ? null : encodeCursor(page.next);
    async function* body(): AsyncGenerator<string> {
      yield '{"data":[';
      let first = true;
      for await (const json of orderedMap(page.files, READ_AHEAD, toJson)) {
        yield first ? json : `,${json}`;
        first = false;
      }
      yield `],"next_cursor":${JSON.stringify(nextCursor)}}`;
    }
    res.status(200).type('application/json');
    await stream(res, body());
  });

  router.get('/v1/jobs/:id/files/:index/transcript', async (req, res) => {
    const jobId = jobIdParam(req);
    const { format } = parseOr400(transcriptQuery, req.query, 'The query');
    const index = Number(req.params.index);
    const job = await requireJob(deps.reader.withFiles, jobId, tenantOf(req));
    if (!Number.isInteger(index) || index < 0 || index >= job.total)
      throw new ProblemError('not-found', `The job has no file ${req.params.index}.`);
    const file = await deps.reader.readFile(job, index);
    const missing = () =>
      new ProblemError('not-found', `File ${index} has no transcript${file?.s === 'failed' ? ' (it failed)' : ' yet'}.`);
    // A failed file may still keep the raw upstream answer that could not be parsed: only `raw` shows it.
    if (file?.s !== 'completed' && format !== 'raw') throw missing();
    const at = file ? transcriptLocation(jobId, index, file) : { jobId, index };
    if (format === 'raw') {
      // Piped as stored, never parsed: the api holds a chunk of it at a time.
      const raw = await deps.transcripts.openRaw(at.jobId, at.index);
      if (raw === null) throw missing();
      res.status(200).type(TRANSCRIPT_CONTENT_TYPES.raw);
      await stream(res, raw);
      return;
    }
    const normalized = await deps.transcripts.readNormalized(at.jobId, at.index);
    if (normalized === null) throw missing();
    res.type(TRANSCRIPT_CONTENT_TYPES[format]);
    res.send(format === 'json' ? normalized : renderTranscript(JSON.parse(normalized) as Transcript, format));
  });

  return router;
}
