export { FoxapiClient, createFoxapiAgent, type CallOptions } from './client.js';
export {
  FoxapiError,
  isFoxapiError,
  isRetryable,
  isTransientStatus,
  isAmbiguousSubmitFailure,
  isUnreachable,
  parseRetryAfter,
  type FoxapiErrorKind,
  type FoxapiErrorInit,
} from './errors.js';
export {
  interpretTask,
  interpretResults,
  MISSING_RESULT,
  UNPARSABLE_RESULT,
  FILE_FAILED,
  TASK_FAILED,
  type FileOutcome,
  type TaskOutcome,
} from './task-results.js';
export type {
  FoxapiClientOptions,
  FoxapiRequestEvent,
  FoxapiRoute,
  SubmitRequest,
  SubmittedTask,
  TaskSnapshot,
  TaskStatus,
  UploadedFile,
} from './types.js';
