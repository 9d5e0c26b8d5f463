import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { MEDIA_EXTENSIONS } from '@batchscribe/shared';
import { jsonContent, registerV1Path, response } from '../openapi/common.js';

/** The uploads routes (README, "Uploads"): tus 1.0.0 plus the Upload object. OpenAPI-only schemas. */

const TAG = 'Uploads';
const params = z.object({
  id: z
    .string()
    .regex(/^upl_[0-9a-z]{26}$/)
    .meta({ description: 'The upload id.' }),
});

const isoTime = z.string().meta({ format: 'date-time' });

const uploadSchema = z
  .strictObject({
    id: z.string().regex(/^upl_[0-9a-z]{26}$/),
    object: z.literal('upload'),
    filename: z.string().meta({ description: 'As given in `Upload-Metadata` at creation.' }),
    size: z.number().int().min(1).meta({ description: 'Upload-Length: bytes of the whole file.' }),
    received: z.number().int().min(0).meta({ description: 'Bytes stored so far (the tus offset).' }),
    status: z.enum(['uploading', 'ready', 'expired']).meta({
      description:
        '`ready` once every byte is stored and hashed; `expired` when no job used it within `UPLOAD_TTL_S` (it is being deleted).',
    }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .meta({ description: 'Hex SHA-256 of the file, once ready.' }),
    created_at: isoTime,
    expires_at: isoTime.nullable().meta({ description: 'When it is deleted unless a job uses it; null while a job does.' }),
  })
  .meta({ id: 'Upload', description: 'One resumable upload of a media file.' });

const header = (description: string, schema: object = { type: 'string' }, required = false) => ({ description, schema, required });
const TUS_RESUMABLE = header('The tus protocol version: `1.0.0`.', { type: 'string', const: '1.0.0' }, true);
const UPLOAD_OFFSET = header('Bytes stored so far.', { type: 'integer', minimum: 0 }, true);
const UPLOAD_EXPIRES = header('While unfinished: when the upload is deleted unless finished and used (RFC 7231 date).');
const tusRequestHeaders = z.object({
  'Tus-Resumable': z
    .literal('1.0.0')
    .meta({ description: 'Required on every tus request but OPTIONS; any other version (or none) is a 412.' }),
});

export function registerUploadPaths(registry: OpenAPIRegistry): void {
  registerV1Path(registry, {
    method: 'options',
    path: '/v1/uploads',
    tags: [TAG],
    operationId: 'discoverUploads',
    summary: 'tus discovery: version, extensions, largest upload',
    responses: {
      204: response('What the server offers.', undefined, {
        'Tus-Version': header('Versions offered: `1.0.0`.', { type: 'string' }, true),
        'Tus-Extension': header('`creation,creation-with-upload,termination,expiration`.', { type: 'string' }, true),
        'Tus-Max-Size': header('UPLOAD_MAX_BYTES.', { type: 'integer' }),
      }),
    },
  });

  registerV1Path(registry, {
    method: 'post',
    path: '/v1/uploads',
    tags: [TAG],
    operationId: 'createUpload',
    summary: 'Create an upload (tus creation, creation-with-upload)',
    description:
      'Send `Upload-Length` (1..UPLOAD_MAX_BYTES, else 413) and `Upload-Metadata` with `filename <base64>` (required, 422 without it); ' +
      `the filename must end in an extension foxapi transcribes (${MEDIA_EXTENSIONS.join(' ')}, any case), else 415. ` +
      'A body of `Content-Type: application/offset+octet-stream` is stored as the first bytes. Deferred lengths and concatenation are not offered (400). ' +
      'Bytes streaming in count against the tenant’s share of the in-flight byte budget (503 with Retry-After when it is full).',
    request: { headers: tusRequestHeaders },
    responses: {
      201: response('Created; `Location` is the upload’s URL.', undefined, {
        Location: header('`/v1/uploads/{id}`.', { type: 'string', pattern: '^/v1/uploads/upl_[0-9a-z]{26}$' }, true),
        'Tus-Resumable': TUS_RESUMABLE,
        'Upload-Offset': { ...UPLOAD_OFFSET, required: false, description: 'With a body: bytes stored from it.' },
        'Upload-Expires': UPLOAD_EXPIRES,
      }),
    },
    problems: ['malformed-request', 'precondition-failed', 'payload-too-large', 'unsupported-media-type', 'validation-error'],
  });

  registerV1Path(registry, {
    method: 'get',
    path: '/v1/uploads/{id}',
    tags: [TAG],
    operationId: 'getUpload',
    summary: 'Read an upload',
    description: 'Another tenant’s upload is a 404.',
    request: { params },
    responses: { 200: response('The upload.', jsonContent(uploadSchema)) },
    problems: ['not-found'],
  });

  registerV1Path(registry, {
    method: 'head',
    path: '/v1/uploads/{id}',
    tags: [TAG],
    operationId: 'uploadOffset',
    summary: 'How far an upload has come (tus): resume from `Upload-Offset`',
    description:
      'Waits while another request of the same upload is still writing, so the offset is final. Another tenant’s, or an expired, upload is a 404.',
    request: { params, headers: tusRequestHeaders },
    responses: {
      200: response('The offset.', undefined, {
        'Tus-Resumable': TUS_RESUMABLE,
        'Upload-Offset': UPLOAD_OFFSET,
        'Upload-Length': header('Bytes of the whole file.', { type: 'integer', minimum: 1 }, true),
        'Upload-Metadata': header('As given at creation.'),
        'Cache-Control': header('`no-store`.'),
      }),
    },
    problems: ['not-found', 'precondition-failed', 'conflict'],
  });

  registerV1Path(registry, {
    method: 'patch',
    path: '/v1/uploads/{id}',
    tags: [TAG],
    operationId: 'appendToUpload',
    summary: 'Store the next bytes of an upload (tus)',
    description:
      '`Upload-Offset` must be the stored offset (else 409, nothing changes); `Content-Type: application/offset+octet-stream` (else 415). ' +
      'An interrupted PATCH keeps what arrived; HEAD says where to go on. Bytes past `Upload-Length` are a 413.',
    request: {
      params,
      headers: tusRequestHeaders.extend({ 'Upload-Offset': z.string().regex(/^\d+$/) }),
      body: { required: true, content: { 'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    },
    responses: {
      204: response('Stored.', undefined, {
        'Tus-Resumable': TUS_RESUMABLE,
        'Upload-Offset': UPLOAD_OFFSET,
        'Upload-Expires': UPLOAD_EXPIRES,
      }),
    },
    problems: ['malformed-request', 'not-found', 'conflict', 'precondition-failed', 'payload-too-large', 'unsupported-media-type'],
  });

  registerV1Path(registry, {
    method: 'delete',
    path: '/v1/uploads/{id}',
    tags: [TAG],
    operationId: 'deleteUpload',
    summary: 'Delete an upload and its bytes (tus termination)',
    description: 'An upload a job uses is a 409: it is deleted once the job’s files that use it have ended.',
    request: { params, headers: tusRequestHeaders },
    responses: { 204: response('Deleted.', undefined, { 'Tus-Resumable': TUS_RESUMABLE }) },
    problems: ['not-found', 'conflict', 'precondition-failed'],
  });
}
