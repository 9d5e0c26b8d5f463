import { z } from 'zod';

/*
 * Lenient readings of foxapi's answers: only the fields we cannot work without are required,
 * unknown fields pass through, and an optional field of an unexpected type reads as absent
 * instead of failing the whole answer (foxapi documents little; see docs/upstream.md, "Submit" and "Task query").
 */

const optionalNumber = z.number().finite().nullish().catch(null);
const optionalBoolean = z.boolean().nullish().catch(null);
const optionalText = z.union([z.string(), z.number()]).nullish().catch(null);

/** Answer of `POST /v1/audios/generations` (docs/upstream.md, "Submit"). */
export const submitResponseSchema = z.looseObject({
  id: z.string().min(1),
  task_info: z.looseObject({ can_cancel: optionalBoolean, estimated_time: optionalNumber }).nullish().catch(null),
});

const taskErrorSchema = z.looseObject({ code: optionalText, message: optionalText, type: optionalText });

/** Answer of `GET /v1/tasks/{id}` (docs/upstream.md, "Task query"); DashScope's `output.results` nesting is tolerated. */
export const taskResponseSchema = z.looseObject({
  id: z.string().optional().catch(undefined),
  status: z.string(),
  progress: optionalNumber,
  results: z.array(z.unknown()).nullish().catch(null),
  error: taskErrorSchema.nullish().catch(null),
  output: z
    .looseObject({ results: z.array(z.unknown()).nullish().catch(null) })
    .nullish()
    .catch(null),
});

/** foxapi's error body `{error: {message, type, code?}}` (docs/upstream.md, "Errors and rate limits"); code may be a number (EvoLink). */
export const errorBodySchema = z.looseObject({
  error: z.looseObject({ message: optionalText, type: optionalText, code: optionalText }),
});

/** Answer of `POST /v1/files/upload/stream` (docs/upstream.md, "File API"). */
export const uploadedFileSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  filename: z.string(),
  url: z.url({ protocol: /^https?$/ }),
  size: z.number().int().min(0),
  created: z.number(),
});
