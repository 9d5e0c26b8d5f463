import { createHash } from 'node:crypto';
import type { UpstreamOptions } from './job.js';

/**
 * Reuse (`"reuse": true`, README "Costs"): a file is completed from an earlier transcript of the
 * same tenant when it is the same recording asked for in the same way. "The same" is a
 * fingerprint of the file's reuse identity (its URL, or `sha256:<hex>` of an upload's content:
 * store/file-entries.ts `reuseIdentity`), the model, and the upstream options in canonical JSON.
 * The tenant is not part of it: each tenant has its own index (docs/architecture.md, "Reuse").
 */

/** Bytes of SHA-256 kept: 96 bits, so that two different recordings of one tenant never meet (p ≈ n² / 2⁹⁷). */
export const FINGERPRINT_BYTES = 12;

/**
 * JSON with every object's keys sorted, recursively, and no whitespace: two option objects that
 * differ only in key order are the same request to foxapi. Arrays keep their order (a list of
 * language hints or channels is the caller's, as given).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The options that change what foxapi answers (the Job's language_hints, channel_id, recognition, diarization). */
function upstreamPart(options: UpstreamOptions): UpstreamOptions {
  const o: UpstreamOptions = {};
  if (options.language_hints !== undefined) o.language_hints = options.language_hints;
  if (options.channel_id !== undefined) o.channel_id = options.channel_id;
  if (options.recognition !== undefined) o.recognition = options.recognition;
  if (options.diarization !== undefined) o.diarization = options.diarization;
  return o;
}

/** The fingerprint of one file of a job, as hex (FINGERPRINT_BYTES bytes): what the tenant's reuse index is keyed by. */
export function reuseFingerprint(identity: string, model: string, options: UpstreamOptions): string {
  const text = canonicalJson([identity, model, upstreamPart(options)]);
  return createHash('sha256').update(text).digest().subarray(0, FINGERPRINT_BYTES).toString('hex');
}

/** Where a reused file's transcript is: the file of the job that transcribed it (whose blobs it reads). */
export interface ReuseSource {
  jobId: string;
  index: number;
}
