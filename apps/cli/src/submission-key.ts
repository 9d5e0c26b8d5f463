import { createHash, randomBytes } from 'node:crypto';

/** One input of a job, as far as its identity goes: a URL, or a local file by ref, size and content fingerprint. */
export type KeyedInput = { kind: 'url'; url: string; ref?: string } | { kind: 'upload'; ref: string; size: number; fingerprint: string };

/**
 * A digest of what a submit sends: the server, every input in the job's order and every other
 * field of the job (model, name, metadata, …), with object keys sorted so the digest does not
 * depend on how a JSON input happened to order them. The order of the inputs is kept, not sorted:
 * it is the job's index order, so two orders are two different jobs. Folder and archive listings
 * are sorted by name, which makes the order itself stable from run to run.
 */
export function inputDigest(server: string, inputs: readonly KeyedInput[], fields: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(canonicalJson({ v: 1, server, fields }));
  for (const input of inputs) {
    hash.update('\n');
    hash.update(
      canonicalJson(input.kind === 'url' ? ['url', input.url, input.ref ?? null] : ['upload', input.ref, input.size, input.fingerprint]),
    );
  }
  return hash.digest('hex');
}

/**
 * The Idempotency-Key of a submission: the inputs' digest and a nonce drawn when the submission
 * starts. `--resume` reuses the key of the run it continues, so a job the earlier run created
 * (even one whose answer it never got) is returned, not created again; a run without `--resume`
 * draws a new nonce, so submitting the same folder again on purpose makes a new job rather than
 * an idempotency conflict (its uploads, and so its body, are new).
 */
export function idempotencyKeyFor(digest: string, nonce: string = randomBytes(8).toString('hex')): string {
  return `bs-cli-${digest.slice(0, 40)}-${nonce}`;
}

/** JSON with object keys in sorted order at every depth; `undefined` members left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
