import { createHash } from 'node:crypto';
import { ConflictError, IdempotencyKeyReusedError, ValidationError, type ClaimHandle, type ClaimStore } from '@batchscribe/shared';

/** How long a key is remembered (README, "HTTP API": 24 h). */
export const IDEMPOTENCY_TTL_S = 24 * 3600;
/** A claim older than this belongs to a request that died; the next one may take it over. */
export const IDEMPOTENCY_STALE_MS = 60_000;

export type IdempotencyClaim = { kind: 'claimed'; handle: ClaimHandle } | { kind: 'replay'; jobId: string };

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Claims an Idempotency-Key for a request body. The same key with the same body replays the
 * first job; with another body it is a 422; while the first request is still creating the job,
 * a duplicate waits for it (briefly) rather than creating a second one.
 */
export async function claimIdempotencyKey(
  claims: ClaimStore,
  tenant: string,
  key: string,
  canonicalBody: string,
  opts: { waitMs?: number } = {},
): Promise<IdempotencyClaim> {
  if (key.length === 0 || key.length > 255) {
    throw new ValidationError('Idempotency-Key must be 1 to 255 characters.', [
      { path: 'Idempotency-Key', message: 'must be 1 to 255 characters' },
    ]);
  }
  const keyHash = sha(key);
  const bodyHash = sha(canonicalBody);
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  for (;;) {
    const claim = await claims.claimIdempotency(tenant, keyHash, bodyHash, IDEMPOTENCY_TTL_S, IDEMPOTENCY_STALE_MS);
    if (claim.word === 'claimed') return { kind: 'claimed', handle: claim.handle };
    if (claim.word === 'conflict') {
      throw new IdempotencyKeyReusedError('This Idempotency-Key was already used with a different request body.');
    }
    if (claim.word === 'done') return { kind: 'replay', jobId: claim.jobId };
    if (Date.now() > deadline) {
      throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly.', { retryAfterS: 1 });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Releases a claim whose request failed before creating its job, so a retry can proceed. */
export async function releaseIdempotencyKey(claims: ClaimStore, handle: ClaimHandle): Promise<void> {
  await claims.releaseIdempotency(handle);
}
