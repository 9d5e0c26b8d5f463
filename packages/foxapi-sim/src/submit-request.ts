import { z } from 'zod';
import { isHttpUrl } from './config.js';
import type { Model } from './tasks.js';

const MODELS = ['paraformer-v2', 'paraformer-8k-v2'] as const;
const LANGUAGE_CODES = ['zh', 'en', 'ja', 'yue', 'ko', 'de', 'fr', 'ru'] as const;
/** foxapi takes 1–100 URLs per task. */
const MAX_FILES = 100;

/** Body of `POST /v1/audios/generations` as foxapi documents it. */
const submitBodySchema = z
  .object({
    model: z.enum(MODELS, { error: `must be one of ${MODELS.join(', ')}` }).default('paraformer-v2'),
    file_urls: z
      .array(z.string().refine(isHttpUrl, { error: 'must be a public http(s) URL' }), {
        error: 'is required and must be an array of URLs',
      })
      .min(1, { error: 'needs at least 1 URL' })
      .max(MAX_FILES, { error: `takes at most ${MAX_FILES} URLs` }),
    language_hints: z.array(z.enum(LANGUAGE_CODES, { error: `codes must be among ${LANGUAGE_CODES.join(', ')}` })).nullish(),
    channel_id: z.array(z.number().int().min(0)).nullish(),
    recognition: z.record(z.string(), z.unknown()).optional(),
    diarization: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((body) => body.model === 'paraformer-v2' || body.language_hints == null, {
    error: 'is only supported by paraformer-v2',
    path: ['language_hints'],
  });

export interface SubmitRequest {
  model: Model;
  fileUrls: string[];
  /** Audio tracks per file; each one is billed. */
  channels: number;
}

export type SubmitParse = { ok: true; request: SubmitRequest } | { ok: false; status: 400 | 422; message: string };

/**
 * Validates a submit. `isJson` is whether the request declared a JSON body: foxapi answers 400
 * for a wrong content type or unparsable JSON and 422 for a well-formed body with bad fields.
 */
export function parseSubmitRequest(body: unknown, isJson: boolean): SubmitParse {
  if (!isJson) return { ok: false, status: 400, message: 'Content-Type must be application/json.' };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, status: 422, message: 'The request body must be a JSON object.' };
  }
  const parsed = submitBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    return { ok: false, status: 422, message: `${field}: ${issue?.message ?? 'invalid value'}` };
  }
  const { model, file_urls: fileUrls, channel_id: channelIds } = parsed.data;
  return { ok: true, request: { model, fileUrls, channels: Math.max(1, channelIds?.length ?? 1) } };
}
