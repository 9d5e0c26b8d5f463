export {
  normalizeTranscription,
  transcriptSchema,
  UnparsableTranscriptError,
  isUnparsableTranscriptError,
  type Word,
  type Sentence,
  type Channel,
  type Transcript,
} from './normalize.js';
export {
  toPlainText,
  toSrt,
  toWebVtt,
  renderTranscript,
  isTranscriptFormat,
  TRANSCRIPT_FORMATS,
  TRANSCRIPT_CONTENT_TYPES,
  type TranscriptFormat,
} from './formats.js';
export { prepareTranscript, type PreparedTranscript } from './prepare.js';
export { createThreadPreparer, inlinePreparer, type TranscriptPreparer } from './transcript-preparer.js';
