import { setTimeout as sleep } from 'node:timers/promises';
import { FoxapiClient, interpretTask } from '@batchscribe/shared';

/**
 * The polling baseline: submits `files.length` one-file tasks and reads each one every
 * `intervalMs` from its submit until it is terminal — what a worker without an adaptive
 * schedule does at POLL_MIN_MS. Same foxapi client as the worker.
 */
export async function runFixedIntervalPoller(baseUrl: string, files: string[], intervalMs: number): Promise<void> {
  const foxapi = new FoxapiClient({ baseUrl, apiKey: 'sk-sim', timeoutMs: 10_000 });
  try {
    const tasks = [];
    for (const url of files) {
      const task = await foxapi.submit({ model: 'paraformer-v2', file_urls: [url] });
      tasks.push(
        (async () => {
          for (;;) {
            await sleep(intervalMs);
            const snapshot = await foxapi.getTask(task.taskId);
            if (interpretTask(snapshot, [url]).state !== 'running') return;
          }
        })(),
      );
    }
    await Promise.all(tasks);
  } finally {
    await foxapi.close();
  }
}
