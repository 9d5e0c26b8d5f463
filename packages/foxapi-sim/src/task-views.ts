import { LINK_LIFETIME_S, signedTranscriptionUrl } from './signed-links.js';
import { entryKind } from './entries.js';
import { isTerminal, type SimTask, type TaskState } from './tasks.js';
import { transcriptionFor } from './transcripts.js';

const FAILED_FILE = {
  code: 'InvalidFile.DownloadFailed',
  message: 'The audio file cannot be downloaded.',
  subtask_status: 'FAILED',
} as const;

const TASK_ERROR = {
  code: 'generation_failed',
  message: 'The upstream provider failed to transcribe the batch.',
  type: 'task_error',
} as const;

const USER_GROUP = 'default';

/** Answer of `POST /v1/audios/generations`. */
export function submitView(task: SimTask): Record<string, unknown> {
  return {
    created: unixSeconds(task.createdAt),
    id: task.id,
    model: task.model,
    object: 'audio.generation.task',
    progress: 0,
    status: 'pending',
    task_info: { can_cancel: true, estimated_time: task.estimatedTimeS },
    type: 'audio',
    usage: { credits_reserved: task.creditsReserved, user_group: USER_GROUP },
  };
}

/** Answer of `GET /v1/tasks/:id`. */
export function pollView(task: SimTask, state: TaskState, baseUrl: string): Record<string, unknown> {
  return {
    id: task.id,
    object: 'audio.generation.task',
    type: 'audio',
    model: task.model,
    status: state.status,
    progress: state.progress,
    created: unixSeconds(task.createdAt),
    results: state.status === 'completed' ? resultEntries(task, baseUrl) : null,
    ...(state.status === 'failed' ? { error: TASK_ERROR } : {}),
    usage: pollUsage(task, state),
  };
}

/**
 * The task's `usage`: foxapi's `credits_reserved` and `user_group`, plus the billed seconds
 * under `duration`, where DashScope reports them. When `duration` appears is not documented;
 * the simulator adds it once the task is terminal (0 for a failed task), never before.
 */
function pollUsage(task: SimTask, state: TaskState): Record<string, unknown> {
  const usage = { credits_reserved: task.creditsReserved, user_group: USER_GROUP };
  if (!isTerminal(state.status)) return usage;
  return { ...usage, duration: state.status === 'completed' ? task.usage.billedSeconds : 0 };
}

/** One entry per input file in input order; duplicates stay separate, `sim-missing` has none. */
function resultEntries(task: SimTask, baseUrl: string): unknown[] {
  const expiresS = unixSeconds(task.createdAt + task.durationMs) + LINK_LIFETIME_S;
  const entries: unknown[] = [];
  task.fileUrls.forEach((fileUrl, index) => {
    switch (entryKind(task, index)) {
      case 'absent':
        return;
      case 'unknown-shape':
        entries.push({ file_url: fileUrl, blob: 42 });
        return;
      case 'failed':
        entries.push({ file_url: fileUrl, ...FAILED_FILE });
        return;
      case 'succeeded':
        entries.push(succeededEntry(task, fileUrl, () => signedTranscriptionUrl(baseUrl, task.id, index, expiresS)));
    }
  });
  return entries;
}

function succeededEntry(task: SimTask, fileUrl: string, link: () => string): unknown {
  switch (task.shape) {
    case 'dashscope':
      return { file_url: fileUrl, transcription_url: link(), subtask_status: 'SUCCEEDED' };
    case 'url':
      return { url: link(), file_url: fileUrl };
    case 'inline': {
      const { transcripts, properties } = transcriptionFor(fileUrl, task.transcriptMinutes);
      return { file_url: fileUrl, transcripts, properties };
    }
  }
}

export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
