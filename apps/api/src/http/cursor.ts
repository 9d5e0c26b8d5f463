import { z } from 'zod';
import { ProblemError } from './problem.js';

/**
 * Opaque cursors: base64url JSON, so clients cannot come to depend on what is inside and we
 * can change it later.
 */
export function encodeCursor(value: string | number): string {
  return Buffer.from(JSON.stringify({ v: value })).toString('base64url');
}

export function decodeCursor<T extends z.ZodType>(cursor: string, schema: T): z.infer<T> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown };
    const result = schema.safeParse(parsed.v);
    if (result.success) return result.data;
  } catch {
    // fall through to the problem below
  }
  throw new ProblemError('malformed-request', 'The cursor is not one this API issued.', [{ path: 'cursor', message: 'is invalid' }]);
}

export const pageQuery = (maxLimit: number, defaultLimit: number) =>
  z.object({
    limit: z.coerce
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(1, { message: 'must be at least 1' })
      .max(maxLimit, { message: `must be at most ${maxLimit}` })
      .default(defaultLimit),
    cursor: z.string().min(1).max(512).optional(),
  });
