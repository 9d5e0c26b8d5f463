import { createHmac, timingSafeEqual } from 'node:crypto';

/** Transcription links live 24 h, like DashScope's signed OSS URLs. */
export const LINK_LIFETIME_S = 24 * 60 * 60;

const SIGNING_SECRET = 'foxapi-sim';

export function transcriptionPath(taskId: string, entryIndex: number): string {
  return `/transcriptions/${encodeURIComponent(taskId)}/${entryIndex}.json`;
}

/** `<baseUrl>/transcriptions/<taskId>/<n>.json?Expires=<unix>&Signature=<hex>` */
export function signedTranscriptionUrl(baseUrl: string, taskId: string, entryIndex: number, expiresUnixS: number): string {
  const signature = sign(taskId, entryIndex, expiresUnixS);
  return `${baseUrl}${transcriptionPath(taskId, entryIndex)}?Expires=${expiresUnixS}&Signature=${signature}`;
}

export type LinkCheck = 'valid' | 'bad-signature' | 'expired';

export function checkTranscriptionLink(
  taskId: string,
  entryIndex: number,
  query: { Expires?: unknown; Signature?: unknown },
  nowMs: number,
): LinkCheck {
  const expires = typeof query.Expires === 'string' ? Number(query.Expires) : Number.NaN;
  const given = typeof query.Signature === 'string' ? query.Signature : '';
  if (!Number.isInteger(expires)) return 'bad-signature';
  const expected = Buffer.from(sign(taskId, entryIndex, expires));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return 'bad-signature';
  return nowMs >= expires * 1000 ? 'expired' : 'valid';
}

function sign(taskId: string, entryIndex: number, expiresUnixS: number): string {
  return createHmac('sha256', SIGNING_SECRET).update(`${taskId}\n${entryIndex}\n${expiresUnixS}`).digest('hex');
}
