import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { JOB_ID_PATTERN, createJobBody, createJobQuery, jobSchema, transcriptSchema } from '@batchscribe/shared';
import { HINTS_NEED_V2, exactlyOneOf, jsonContent, registerV1Path, response } from '../openapi/common.js';
import { fileResultPageSchema, jobPageSchema } from '../openapi/schemas.js';
import { listQuery } from './jobs.routes.js';
import { resultsQuery, transcriptQuery } from './results.routes.js';

/*
 * The jobs and results routes in the OpenAPI document. Request schemas are the very ones the
 * routes validate with (createJobBody, listQuery, …), so the document cannot promise what the
 * code rejects.
 */

const TAG = 'Jobs';
const jobParams = z.object({
  id: z.string().regex(JOB_ID_PATTERN).meta({ description: 'The job id.', example: 'job_01jc9x3k6m2v8q4r7t5w0y1z2a' }),
});
const LOCATION = { description: 'The job: `/v1/jobs/{id}`.', schema: { type: 'string' } };
const jobAnswer = (description: string) => response(description, jsonContent(jobSchema));

const submitHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().meta({
    description:
      'The same key from the same tenant with the same body returns the first job (200); with another body, 422 idempotency-conflict.',
  }),
});

const CREATE_JOB_DESCRIPTION = [
  'Exactly one of `file_urls` (1..MAX_FILES_PER_JOB http(s) URLs, at most 2048 characters each) or `files` (`{url, ref}` or `{upload_id, ref}`, mixed as you like; `ref` is your own id, echoed in results).',
  'An `upload_id` must name a ready upload of yours (`POST /v1/uploads`); an unknown, unfinished or expired one (or another tenant’s) is a 422 naming `files.N.upload_id`, and nothing is written. The job holds the upload’s media until its files have ended, then it is deleted.',
  '`language_hints` (at most 8, no repeats) only with paraformer-v2; `channel_id` at most 16 distinct tracks.',
  '`metadata`, `recognition` and `diarization` are each at most 4 KiB of JSON and 32 levels deep; the Job shows them as given.',
  'Every string must be well-formed Unicode (no lone UTF-16 surrogate), numbers must be finite, `__proto__` is not a key, and a URL holds no whitespace or control character.',
  'The body must be valid UTF-8 (or its declared charset); `Content-Encoding` gzip, deflate and br are undone first. An unknown field is a 422 that suggests the nearest known name.',
  '`callback_url` needs the server to have WEBHOOK_SECRET, and a host in CALLBACK_HOSTS when that is set.',
  '`priority` defaults to interactive for a job of one batch, else bulk.',
  '`reuse: true`: a file this tenant already had transcribed (the same URL, or the same upload content, with the same model and upstream options) within JOB_RETENTION_S is completed from that transcript with no foxapi call, and its FileResult says `reused_from`; a URL repeated within the job is transcribed once.',
].join(' ');

const textQuery = createJobQuery.meta({ description: 'Job options for a text/plain body.' });

/** JSON Schema has no NDJSON: the body is text, each line one FileResult (named by `x-ndjson-item`). */
const NDJSON_RESULTS = {
  type: 'string',
  description:
    'A text stream of FileResult objects, one JSON object per line (each line ends with `\\n`), in `index` order. Each line is a FileResult (`x-ndjson-item`).',
  'x-ndjson-item': { $ref: '#/components/schemas/FileResult' },
} as const;

export function registerJobPaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'post',
    path: '/v1/jobs',
    tags: [TAG],
    operationId: 'createJob',
    summary: 'Submit a job',
    description:
      "JSON body, or `text/plain` with one URL per line (blank lines and lines starting with `#` skipped; a `#` after whitespace starts a comment, as in a shell; whitespace or a control character left inside a URL is a 422 naming the line) and the options as query parameters (those apply to text/plain only: with a JSON body any query parameter is a 422; `language_hints` comma-separated, and only with `model=paraformer-v2`). Each URL's position is its `index`. Counts against the tenant's intake rate limit (429 beyond it); while the api takes in other large bodies it may answer 503 with Retry-After, and a body that arrives too slowly is cut with 408.",
    request: {
      headers: submitHeaders,
      query: textQuery,
      body: {
        required: true,
        content: {
          'application/json': {
            schema: createJobBody.meta({
              id: 'CreateJobRequest',
              description: CREATE_JOB_DESCRIPTION,
              ...exactlyOneOf('file_urls', 'files'),
              ...HINTS_NEED_V2,
            }),
          },
          'text/plain': { schema: z.string().meta({ example: 'https://media.example.com/a.wav\nhttps://media.example.com/b.wav\n' }) },
        },
      },
    },
    responses: {
      202: response('Accepted: the job and all its batches are stored.', jsonContent(jobSchema), {
        Location: LOCATION,
        'Retry-After': { description: 'Seconds until a sensible first poll.', schema: { type: 'integer', minimum: 1 } },
      }),
      200: response('Replay of an earlier request with the same Idempotency-Key and body.', jsonContent(jobSchema), {
        Location: LOCATION,
        'Idempotent-Replayed': { description: 'Always `true`.', schema: { type: 'string', enum: ['true'] } },
      }),
    },
    rateLimited: true,
    problems: [
      'malformed-request',
      'payload-too-large',
      'unsupported-media-type',
      'validation-error',
      'idempotency-conflict',
      'conflict',
      'request-timeout',
    ],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/jobs',
    tags: [TAG],
    operationId: 'listJobs',
    summary: "List the caller's jobs, newest first",
    request: { query: listQuery },
    responses: { 200: response('A page of jobs.', jsonContent(jobPageSchema)) },
    problems: ['malformed-request'],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/jobs/{id}',
    tags: [TAG],
    operationId: 'getJob',
    summary: 'Read a job (O(1) in its size)',
    request: { params: jobParams },
    responses: { 200: jobAnswer('The job.') },
    problems: ['not-found'],
  });

  registerV1Path(registry, {
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    tags: [TAG],
    operationId: 'cancelJob',
    summary: 'Cancel a job',
    description:
      'Queued batches are cancelled at once; open foxapi tasks are left to finish and their transcripts kept. Cancelling a cancelled job is a no-op.',
    request: { params: jobParams },
    responses: { 202: jobAnswer('The cancel is accepted.') },
    problems: ['not-found', 'conflict'],
  });

  registerV1Path(registry, {
    method: 'post',
    path: '/v1/jobs/{id}/retry',
    tags: [TAG],
    operationId: 'retryJob',
    summary: 'Send the failed files of a finished job again',
    request: { params: jobParams },
    responses: { 202: jobAnswer('The failed files are queued again, in new batches.') },
    problems: ['not-found', 'conflict'],
  });

  registerV1Path(registry, {
    method: 'delete',
    path: '/v1/jobs/{id}',
    tags: [TAG],
    operationId: 'deleteJob',
    summary: 'Delete a finished job and everything stored for it',
    request: { params: jobParams },
    responses: { 204: response('Deleted.') },
    problems: ['not-found', 'conflict'],
  });
}

export function registerResultPaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'get',
    path: '/v1/jobs/{id}/results',
    tags: [TAG],
    operationId: 'listResults',
    summary: "A job's file results in index order",
    description:
      'With `Accept: application/x-ndjson`, streams every FileResult (one JSON object per line) in constant memory; `limit` is then ignored.',
    request: { params: jobParams, query: resultsQuery },
    responses: {
      200: response('A page of file results, or the NDJSON stream.', {
        'application/json': { schema: fileResultPageSchema },
        'application/x-ndjson': { schema: NDJSON_RESULTS },
      }),
    },
    problems: ['not-found', 'malformed-request'],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/jobs/{id}/files/{index}/transcript',
    tags: [TAG],
    operationId: 'getTranscript',
    summary: "One file's transcript",
    description: '`raw` is the upstream transcription JSON as received.',
    request: {
      params: jobParams.extend({
        index: z.number().int().min(0).meta({ description: 'The file index (its position in the submitted list).' }),
      }),
      query: transcriptQuery,
    },
    responses: {
      200: response('The transcript in the asked format.', {
        'application/json': {
          schema: z.union([transcriptSchema, z.record(z.string(), z.unknown()).meta({ description: '`format=raw`' })]),
        },
        'text/plain': { schema: z.string().meta({ description: '`format=txt`' }) },
        'application/x-subrip': { schema: z.string().meta({ description: '`format=srt`' }) },
        'text/vtt': { schema: z.string().meta({ description: '`format=vtt`' }) },
      }),
    },
    problems: ['not-found', 'malformed-request'],
  });
}
