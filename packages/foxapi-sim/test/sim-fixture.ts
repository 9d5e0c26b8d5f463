import { createFoxapiSimulator, type FoxapiSimulator, type SimOptions } from '../src/index.js';

export const API_KEY = 'sk-sim';
export const START_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A clock the test moves by hand, so task lifecycles and rate windows are exact. */
export interface ManualClock {
  now: number;
  advance(ms: number): void;
}

export function manualClock(start = START_MS): ManualClock {
  const clock = {
    now: start,
    advance(ms: number) {
      clock.now += ms;
    },
  };
  return clock;
}

export interface RunningSim {
  sim: FoxapiSimulator;
  url: string;
  clock: ManualClock;
  /** Authenticated request to the simulator. */
  api(path: string, init?: RequestInit): Promise<Response>;
  submit(fileUrls: string[], extra?: Record<string, unknown>): Promise<Response>;
  /** Submits and returns the created task id; fails the test when the submit is refused. */
  submitTask(fileUrls: string[], extra?: Record<string, unknown>): Promise<string>;
  poll(taskId: string): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a simulator on a random port with a manual clock; options override the defaults. */
export async function startSim(options: SimOptions = {}): Promise<RunningSim> {
  const clock = manualClock();
  const sim = createFoxapiSimulator({ clock: () => clock.now, ...options });
  const { url } = await sim.listen(0);

  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string> | undefined) },
    });
  const submit = (fileUrls: string[], extra: Record<string, unknown> = {}): Promise<Response> =>
    api('/v1/audios/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'paraformer-v2', file_urls: fileUrls, ...extra }),
    });

  return {
    sim,
    url,
    clock,
    api,
    submit,
    async submitTask(fileUrls, extra) {
      const res = await submit(fileUrls, extra);
      const body = (await res.json()) as { id?: string };
      if (res.status !== 200 || body.id === undefined) {
        throw new Error(`submit answered ${res.status}: ${JSON.stringify(body)}`);
      }
      return body.id;
    },
    poll: (taskId) => api(`/v1/tasks/${taskId}?sync_upstream=true`),
    close: () => sim.close(),
  };
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export interface PolledTask {
  id: string;
  status: string;
  progress: number;
  results: Array<Record<string, unknown>> | null;
  error?: { code: string; message: string; type: string };
  /** `duration` (billed seconds) appears once the task is terminal. */
  usage: { credits_reserved: number; user_group: string; duration?: number };
}

export function audio(name: string): string {
  return `https://media.example.com/calls/${name}`;
}
