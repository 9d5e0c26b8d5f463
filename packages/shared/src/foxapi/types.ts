import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { FoxapiErrorKind } from './errors.js';

/** Which client call a request belongs to, for logs and metrics. */
export type FoxapiRoute = 'submit' | 'get_task' | 'download' | 'upload';

/** One finished HTTP exchange (or failed attempt), as reported to `onRequestEnd`. */
export interface FoxapiRequestEvent {
  route: FoxapiRoute;
  method: 'GET' | 'POST';
  /** HTTP status, or null when no answer came (timeout, network). */
  status: number | null;
  durationMs: number;
  /** Null on success. */
  errorKind: FoxapiErrorKind | null;
  /** True when no connection could be made at all (DNS, refused, connect timeout). */
  unreachable: boolean;
  /** The socket or DNS error code when no answer came (ENOTFOUND…), else null. */
  errorCode: string | null;
  /** The host the request went to. */
  host: string;
}

export interface FoxapiClientOptions {
  /** e.g. `https://api.foxapi.cc`; a trailing slash is ignored. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` to baseUrl only; never logged. */
  apiKey: string;
  /** Per request: undici headers and body timeouts, and an overall deadline for the whole exchange. */
  timeoutMs: number;
  /** Default: an undici Agent with keep-alive owned (and closed) by the client. Tests inject a MockAgent. */
  dispatcher?: Dispatcher;
  /** Default: no logging. Gets method, path, status, duration and task id — never the key or a query string. */
  logger?: Logger;
  /** Called after every request, e.g. to feed latency and status metrics. Must not throw. */
  onRequestEnd?: (event: FoxapiRequestEvent) => void;
}

/** Body of `POST /v1/audios/generations` (docs/upstream.md, "Submit"); optional fields are omitted unless needed. */
export interface SubmitRequest {
  model: 'paraformer-v2' | 'paraformer-8k-v2';
  file_urls: string[];
  language_hints?: string[];
  channel_id?: number[];
  recognition?: Record<string, unknown>;
  diarization?: Record<string, unknown>;
}

export interface SubmittedTask {
  taskId: string;
  /** `task_info.estimated_time`, seconds. */
  estimatedTimeS: number | null;
  /** `task_info.can_cancel`; informational, foxapi has no cancel call (docs/upstream.md, "Cancel and task list"). */
  canCancel: boolean | null;
  raw: unknown;
}

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled' | (string & {});

export interface TaskSnapshot {
  taskId: string;
  /** As foxapi sent it. */
  status: TaskStatus;
  /** 0–100 when foxapi sent one. */
  progress: number | null;
  /** `results`, else DashScope's `output.results`; null when neither is an array. */
  results: unknown[] | null;
  /** The task's `error`, when present; code defaults to `upstream_task_failed`. */
  error: { code: string; message: string } | null;
  /** The whole answer, kept for diagnosis of shapes we do not understand. */
  raw: unknown;
}

/** foxapi's answer to a file upload (docs/upstream.md, "File API"): `url` is what a task can be submitted with. */
export interface UploadedFile {
  id: string;
  filename: string;
  url: string;
  size: number;
  /** Unix seconds. */
  created: number;
}
