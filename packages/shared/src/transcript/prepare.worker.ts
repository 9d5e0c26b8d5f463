import { prepareTranscript, type PreparedTranscript } from './prepare.js';

/** The entry piscina runs in each worker thread (see transcript-preparer.ts). */
export default function prepare(upstream: Uint8Array): PreparedTranscript {
  return prepareTranscript(upstream);
}
