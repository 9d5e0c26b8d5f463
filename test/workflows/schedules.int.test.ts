import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue, type Job as BullJob } from 'bullmq';
import { pino } from 'pino';
import {
  ClaimStore,
  ManifestFetcher,
  OutboundPolicy,
  QUEUES,
  createOutboundAgent,
  parseAllowedNets,
  ScheduleStore,
  type FileResult,
  type Job,
  type Schedule,
  type ScheduleFirePayload,
} from '@batchscribe/shared';
import { createScheduleProcessor } from '../../apps/worker/src/schedules/schedule.processor.js';
import { HttpFixture } from '../support/http-fixture.js';
import { Stack, TEST_OUTBOUND_ALLOWED_NETS, TOKENS, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
let host: HttpFixture | undefined;
afterEach(async () => {
  await stack?.stop();
  await host?.close();
  stack = host = undefined;
});

const LIMITS = { MANIFEST_MAX_BYTES: '4096', MANIFEST_TIMEOUT_MS: '2000' };
/** Lets a cron fire every second, so a test sees several fires in a few seconds (the default refuses it). */
const FAST_CRON = { SCHEDULE_MIN_INTERVAL_S: '1' };

/** A manifest host: `/list.txt`, `/list.json` (with refs), `/big.txt` (over 4 KiB), `/slow.txt` (never ends); anything else 404. */
async function startManifestHost(): Promise<HttpFixture> {
  const text = ['# nightly archive', ...urls(3, 'night'), ''].join('\r\n');
  const json = JSON.stringify([{ url: 'https://media.example.com/a.wav', ref: 'meeting-a' }, 'https://media.example.com/b.wav']);
  return HttpFixture.start((req, res) => {
    if (req.path === '/list.txt') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
    if (req.path === '/list.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    if (req.path === '/big.txt') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(urls(200).join('\n'));
    if (req.path === '/bad.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end('[42]');
    if (req.path === '/slow.txt') {
      // Starts answering, then never finishes: the whole fetch must give up at MANIFEST_TIMEOUT_MS.
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.write(`${urls(1, 'slow')[0]}\n`);
    }
    if (req.path === '/stream.txt') {
      // Chunked, no Content-Length: the limit must hold while the body streams.
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 20; i++) res.write(urls(10, `chunk${i}`).join('\n') + '\n');
      return void res.end();
    }
    res.writeHead(404).end('no such manifest');
  });
}

async function startStack(
  opts: { worker?: boolean; apiEnv?: Record<string, string>; workerEnv?: Record<string, string> } = {},
): Promise<Stack> {
  return Stack.start({
    worker: opts.worker ?? true,
    apiEnv: { ...LIMITS, ...FAST_CRON, ...opts.apiEnv },
    workerEnv: { ...LIMITS, ...opts.workerEnv },
  });
}

async function createSchedule(s: Stack, body: Record<string, unknown>, token?: string): Promise<Schedule> {
  const res = await s.request<Schedule>('POST', '/v1/schedules', { body, ...(token ? { token } : {}) });
  if (res.status !== 201) throw new Error(`schedule create failed: ${res.status} ${res.text}`);
  return res.body;
}

async function jobsOf(s: Stack, scheduleId: string, token?: string): Promise<Job[]> {
  const res = await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100', token ? { token } : {});
  return res.body.data.filter((j) => j.schedule_id === scheduleId);
}

/** Fire key → job id, straight from Redis: which fire made which job. */
async function firesOf(s: Stack, scheduleId: string): Promise<Map<string, string>> {
  const prefix = s.keys.scheduleFire(scheduleId, '');
  const keys = (await s.keysUnderPrefix()).filter((k) => k.startsWith(prefix));
  const fires = new Map<string, string>();
  for (const key of keys) fires.set(key.slice(prefix.length), (await s.redis.get(key)) ?? '');
  return fires;
}

describe('schedules', () => {
  it('when a schedule fires every second, then each fire makes exactly one job, and delete stops it', async () => {
    host = await startManifestHost();
    stack = await startStack();
    const schedule = await createSchedule(stack, {
      name: 'nightly-archive',
      cron: '* * * * * *',
      manifest_url: `${host.url}/list.txt`,
      job: { language_hints: ['en'] },
    });
    expect(schedule).toMatchObject({
      name: 'nightly-archive',
      cron: '* * * * * *',
      timezone: 'UTC',
      manifest_url: `${host.url}/list.txt`,
      last_run: null,
    });
    expect(schedule.id).toMatch(/^sch_[0-9a-z]{26}$/);
    expect(Date.parse(schedule.next_run!)).toBeGreaterThan(Date.now() - 1_000);

    const jobs = await waitFor(
      async () => {
        const found = await jobsOf(stack!, schedule.id);
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 15_000, what: 'three fires' },
    );
    for (const job of jobs) {
      expect(job).toMatchObject({ name: 'nightly-archive', tenant: 'acme', schedule_id: schedule.id, counts: { total: 3 } });
    }

    const del = await stack.request('DELETE', `/v1/schedules/${schedule.id}`);
    expect(del.status).toBe(204);
    expect((await stack.request('GET', `/v1/schedules/${schedule.id}`)).status).toBe(404);
    const queue = new Queue<ScheduleFirePayload>(QUEUES.schedules, { connection: stack.redis, prefix: stack.keys.bullPrefix });
    try {
      expect(await queue.getJobScheduler(schedule.id)).toBeUndefined();
      // Let a fire already in flight finish; then no fire is pending and no job may come.
      await waitFor(async () => {
        const counts = await queue.getJobCounts('delayed', 'wait', 'active');
        return (counts.delayed ?? 0) + (counts.wait ?? 0) + (counts.active ?? 0) === 0 ? true : undefined;
      });
      const settled = (await jobsOf(stack, schedule.id)).length;
      await new Promise((r) => setTimeout(r, 2_500)); // two cron periods: proving an absence needs time to pass
      expect((await jobsOf(stack, schedule.id)).length).toBe(settled);
    } finally {
      await queue.close();
    }

    // Exactly one job per fire: every fire key names a distinct job, and every job has a fire.
    const all = await jobsOf(stack, schedule.id);
    const fires = await firesOf(stack, schedule.id);
    const jobIds = [...fires.values()].map((v) => v.replace(/^fire\|/, ''));
    expect(new Set(jobIds).size).toBe(fires.size);
    expect(new Set(jobIds)).toEqual(new Set(all.map((j) => j.id)));
    const fireTimes = [...fires.keys()].map(Number).sort((a, b) => a - b);
    expect(fireTimes.every((t) => t % 1_000 === 0)).toBe(true);
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
  });

  it('when one fire is processed twice at once, then it makes one job', async () => {
    host = await startManifestHost();
    stack = await startStack({ worker: false });
    const schedule = await createSchedule(stack, { name: 'yearly', cron: '0 0 1 1 *', manifest_url: `${host.url}/list.json` });
    const queue = new Queue(QUEUES.batches, { connection: stack.redis, prefix: stack.keys.bullPrefix });
    const policy = new OutboundPolicy(parseAllowedNets(TEST_OUTBOUND_ALLOWED_NETS));
    const outbound = createOutboundAgent(policy);
    const fireDeps = {
      claims: new ClaimStore(stack.redis, stack.keys),
      schedules: new ScheduleStore(stack.redis, stack.keys),
      jobs: { redis: stack.redis, keys: stack.keys, queue, batchSize: 100 },
      manifests: new ManifestFetcher({ maxFiles: 1_000, dispatcher: outbound, policy }),
      claimStaleMs: 60_000,
    };
    const processor = createScheduleProcessor(fireDeps, { removeJobScheduler: async () => true }, pino({ level: 'silent' }));
    // The same BullMQ job (as a stalled-and-retaken job would be), processed twice concurrently.
    const fire = {
      id: `repeat:${schedule.id}:1767225600000`,
      data: { scheduleId: schedule.id },
      opts: {},
      timestamp: Date.now(),
    } as unknown as BullJob<ScheduleFirePayload>;
    try {
      const outcomes = await Promise.all([processor(fire), processor(fire)]);
      expect(outcomes.sort()).toEqual(['created', 'replayed']);
      expect(await processor(fire)).toBe('replayed');
    } finally {
      await outbound.close();
      await queue.close();
    }
    const jobs = await jobsOf(stack, schedule.id);
    expect(jobs).toHaveLength(1);
    expect((await firesOf(stack, schedule.id)).get('1767225600000')).toBe(`fire|${jobs[0]!.id}`);
    const results = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${jobs[0]!.id}/results`);
    expect(results.body.data.map((r) => r.ref)).toEqual(['meeting-a', null]);
    const after = await stack.request<Schedule>('GET', `/v1/schedules/${schedule.id}`);
    expect(after.body.last_run).toEqual({ at: '2026-01-01T00:00:00.000Z', job_id: jobs[0]!.id, error: null });
  });

  it('when the manifest is missing, then the fire records last_run.error and makes no job', async () => {
    host = await startManifestHost();
    stack = await startStack();
    const schedule = await createSchedule(stack, { name: 'broken', cron: '* * * * * *', manifest_url: `${host.url}/gone.txt` });
    const seen = await waitFor(
      async () => {
        const res = await stack!.request<Schedule>('GET', `/v1/schedules/${schedule.id}`);
        return res.body.last_run ? res.body : undefined;
      },
      { timeoutMs: 10_000, what: 'a recorded fire' },
    );
    expect(seen.last_run).toMatchObject({ job_id: null, error: 'manifest_url answered HTTP 404' });
    expect(seen.last_error).toBe('manifest_url answered HTTP 404');
    expect(await jobsOf(stack, schedule.id)).toEqual([]);
    await stack.request('DELETE', `/v1/schedules/${schedule.id}`);
  });

  it('when a schedule is run by request, then 202 with its job, or a problem saying why none', async () => {
    host = await startManifestHost();
    stack = await startStack({ worker: false });
    const listed = await createSchedule(stack, {
      name: 'adhoc',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      file_urls: urls(2),
      job: { name: 'custom-name', model: 'paraformer-8k-v2' },
    });
    const run = await stack.request<Job>('POST', `/v1/schedules/${listed.id}/run`);
    expect(run.status).toBe(202);
    expect(run.headers.get('location')).toBe(`/v1/jobs/${run.body.id}`);
    expect(run.body).toMatchObject({ name: 'custom-name', model: 'paraformer-8k-v2', schedule_id: listed.id, counts: { total: 2 } });
    const again = await stack.request<Job>('POST', `/v1/schedules/${listed.id}/run`);
    expect(again.body.id).not.toBe(run.body.id);

    const missing = await createSchedule(stack, { name: 'missing', cron: '0 2 * * *', manifest_url: `${host.url}/nope.txt` });
    const failed = await stack.request<{ type: string; detail: string; errors: unknown[] }>('POST', `/v1/schedules/${missing.id}/run`);
    expect(failed.status).toBe(422);
    expect(failed.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(failed.body.detail).toMatch(/HTTP 404/);
    expect(failed.body.errors).toEqual([{ path: 'manifest_url', message: 'manifest_url answered HTTP 404' }]);

    const big = await createSchedule(stack, { name: 'big', cron: '0 2 * * *', manifest_url: `${host.url}/big.txt` });
    const tooBig = await stack.request<{ detail: string }>('POST', `/v1/schedules/${big.id}/run`);
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.detail).toMatch(/4096 bytes/);
    expect((await stack.request<Schedule>('GET', `/v1/schedules/${big.id}`)).body.last_run?.error).toMatch(/4096 bytes/);

    const streamed = await createSchedule(stack, { name: 'streamed', cron: '0 2 * * *', manifest_url: `${host.url}/stream.txt` });
    const cut = await stack.request<{ detail: string }>('POST', `/v1/schedules/${streamed.id}/run`);
    expect(cut.body.detail).toMatch(/larger than 4096 bytes/);

    const bad = await createSchedule(stack, { name: 'bad', cron: '0 2 * * *', manifest_url: `${host.url}/bad.json` });
    const unparsable = await stack.request<{ detail: string }>('POST', `/v1/schedules/${bad.id}/run`);
    expect(unparsable.status).toBe(422);
    expect(unparsable.body.detail).toMatch(/manifest item 0/);
    const slow = await createSchedule(stack, { name: 'slow', cron: '0 2 * * *', manifest_url: `${host.url}/slow.txt` });
    const timedOut = await stack.request<{ detail: string }>('POST', `/v1/schedules/${slow.id}/run`);
    expect(timedOut.status).toBe(422);
    expect(timedOut.body.detail).toMatch(/no complete answer within 2000 ms/);
    expect((await stack.request<Schedule>('GET', `/v1/schedules/${slow.id}`)).body.last_run?.error).toMatch(/within 2000 ms/);
    // Only the two good runs made jobs.
    expect((await stack.keysUnderPrefix()).filter((k) => /:job:job_[0-9a-z]{26}$/.test(k))).toHaveLength(2);
  });

  it('when a schedule names a time zone, then next_run is the cron time in that zone', async () => {
    stack = await startStack({ worker: false });
    const clock = (iso: string | null, timeZone: string) =>
      new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso!));
    const kolkata = await createSchedule(stack, { name: 'ist', cron: '0 2 * * *', timezone: 'Asia/Kolkata', file_urls: urls(1) });
    const utc = await createSchedule(stack, { name: 'utc', cron: '0 2 * * *', file_urls: urls(1) });
    expect(kolkata.timezone).toBe('Asia/Kolkata');
    expect(clock(kolkata.next_run, 'Asia/Kolkata')).toBe('02:00');
    expect(clock(kolkata.next_run, 'UTC')).toBe('20:30'); // India is UTC+5:30, all year
    expect(clock(utc.next_run, 'UTC')).toBe('02:00');
    for (const s of [kolkata, utc]) {
      const ahead = Date.parse(s.next_run!) - Date.now();
      expect(ahead).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(24 * 3_600_000);
    }
  });

  it('when the body is invalid, then 422 problem+json naming each field, and nothing is stored', async () => {
    stack = await startStack({ worker: false });
    const before = await stack.keysUnderPrefix();
    const base = { name: 'n', cron: '0 2 * * *', file_urls: urls(1) };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, cron: '61 * * * *' }, 'cron'],
      [{ ...base, cron: '* * * *' }, 'cron'],
      [{ ...base, cron: '@daily' }, 'cron'],
      [{ ...base, cron: '0 0 2 * * * 2030' }, 'cron'],
      [{ ...base, timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      [{ ...base, file_urls: ['ftp://media.example.com/a.wav'] }, 'file_urls.0'],
      [{ name: 'n', cron: '0 2 * * *', manifest_url: 'not a url' }, 'manifest_url'],
      [{ name: 'n', cron: '0 2 * * *' }, 'manifest_url'],
      [{ ...base, manifest_url: 'https://x.example/m.txt' }, 'file_urls'],
      [{ ...base, job: { model: 'paraformer-8k-v2', language_hints: ['en'] } }, 'job.language_hints'],
      [{ ...base, job: { callback_url: 'mailto:a@b' } }, 'job.callback_url'],
      [{ ...base, job: { unknown: 1 } }, 'job.unknown'],
      [{ cron: '0 2 * * *', file_urls: urls(1) }, 'name'],
    ];
    for (const [body, path] of cases) {
      const res = await stack.request<{ type: string; errors: Array<{ path: string }> }>('POST', '/v1/schedules', { body });
      expect({ body, status: res.status, type: res.body.type }).toEqual({
        body,
        status: 422,
        type: expect.stringMatching(/\/validation-error$/),
      });
      expect(res.body.errors.map((e) => e.path)).toContain(path);
    }
    // The tenant's intake counter counts refused requests too; nothing else may be written.
    const state = async () => (await stack!.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));
    expect(await state()).toEqual(before.filter((k) => !k.includes(':ratelimit:')));
  });

  it('when another tenant asks for a schedule, then it is a 404, and each tenant lists only its own', async () => {
    stack = await startStack({ worker: false });
    const mine = await createSchedule(stack, { name: 'acme-nightly', cron: '0 2 * * *', file_urls: urls(1) });
    for (const [method, path] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/run'],
    ] as const) {
      const res = await stack.request<{ type: string }>(method, `/v1/schedules/${mine.id}${path}`, { token: TOKENS.globex });
      expect(res.status).toBe(404);
      expect(res.body.type).toMatch(/\/not-found$/);
    }
    const theirs = await stack.request<{ data: Schedule[] }>('GET', '/v1/schedules', { token: TOKENS.globex });
    expect(theirs.body.data).toEqual([]);
    const job = await stack.request<Job>('POST', `/v1/schedules/${mine.id}/run`);
    expect((await stack.request('GET', `/v1/jobs/${job.body.id}`, { token: TOKENS.globex })).status).toBe(404);
  });

  it('when there are more schedules than the limit, then they page newest first by cursor', async () => {
    stack = await startStack({ worker: false });
    const made: Schedule[] = [];
    for (const name of ['one', 'two', 'three']) made.push(await createSchedule(stack, { name, cron: '0 2 * * *', file_urls: urls(1) }));
    const first = await stack.request<{ data: Schedule[]; next_cursor: string | null }>('GET', '/v1/schedules?limit=2');
    expect(first.body.data.map((s) => s.name)).toEqual(['three', 'two']);
    expect(first.body.data[0]!.next_run).not.toBeNull();
    const second = await stack.request<{ data: Schedule[]; next_cursor: string | null }>(
      'GET',
      `/v1/schedules?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((s) => s.name)).toEqual(['one']);
    expect(second.body.next_cursor).toBeNull();
    expect((await stack.request('GET', '/v1/schedules?cursor=bogus')).status).toBe(400);
  });
});

describe('schedules under the intake controls', () => {
  interface Problem {
    type: string;
    detail: string;
    errors?: Array<{ path: string; message: string }>;
  }
  const jobState = async (s: Stack) => (await s.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));

  it('when a tenant creates and runs schedules, then each counts against INTAKE_RATE_LIMIT_PER_MIN with POST /v1/jobs, 429 beyond it', async () => {
    stack = await startStack({ worker: false, apiEnv: { INTAKE_RATE_LIMIT_PER_MIN: '5' } });
    const schedule = await createSchedule(stack, { name: 'burst', cron: '0 2 * * *', file_urls: urls(1) }); // 1
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await stack.request('POST', `/v1/schedules/${schedule.id}/run`)).status); // 2..7
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    const refused = await stack.request<Problem>('POST', `/v1/schedules/${schedule.id}/run`);
    expect(refused.status).toBe(429);
    expect(refused.body.type).toMatch(/\/rate-limited$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await stack.request('POST', '/v1/schedules', { body: { name: 'more', cron: '0 2 * * *', file_urls: urls(1) } })).status).toBe(
      429,
    );
    expect((await stack.request('POST', '/v1/jobs', { body: { file_urls: urls(1) } })).status).toBe(429);
    // Four runs made four jobs; nothing refused made one. Another tenant has its own budget.
    expect(await jobsOf(stack, schedule.id)).toHaveLength(4);
    expect((await stack.request('POST', '/v1/jobs', { body: { file_urls: urls(1) }, token: TOKENS.globex })).status).toBe(202);
  });

  it('when a fire finds the tenant over its intake rate limit, then it makes no job and last_run.error says why', async () => {
    const limit = { INTAKE_RATE_LIMIT_PER_MIN: '2' };
    stack = await startStack({ apiEnv: limit, workerEnv: limit });
    // The creation takes one of the two; the first fire the other; every later fire is refused.
    const schedule = await createSchedule(stack, { name: 'eager', cron: '* * * * * *', file_urls: urls(1) });
    const refused = await waitFor(
      async () => {
        const res = await stack!.request<Schedule>('GET', `/v1/schedules/${schedule.id}`);
        return res.body.last_run?.error ? res.body.last_run : undefined;
      },
      { timeoutMs: 10_000, what: 'a fire refused by the rate limit' },
    );
    expect(refused).toMatchObject({
      job_id: null,
      error: "the tenant's intake rate limit (2 a minute, INTAKE_RATE_LIMIT_PER_MIN) was reached, so this fire made no job",
    });
    await stack.request('DELETE', `/v1/schedules/${schedule.id}`);
    expect(await jobsOf(stack, schedule.id)).toHaveLength(1);
  });

  it('when a tenant reaches MAX_SCHEDULES_PER_TENANT, then the next create is 409 and writes nothing; deleting one makes room', async () => {
    stack = await startStack({ worker: false, apiEnv: { MAX_SCHEDULES_PER_TENANT: '2' } });
    const body = { name: 'n', cron: '0 2 * * *', file_urls: urls(1) };
    const first = await createSchedule(stack, body);
    await createSchedule(stack, body);
    const before = await jobState(stack);
    const third = await stack.request<Problem>('POST', '/v1/schedules', { body });
    expect(third.status).toBe(409);
    expect(third.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(third.body.type).toMatch(/\/conflict$/);
    expect(third.body.detail).toMatch(/already has 2 schedules/);
    expect(await jobState(stack)).toEqual(before);
    expect((await stack.request<{ data: Schedule[] }>('GET', '/v1/schedules')).body.data).toHaveLength(2);
    // The limit is per tenant.
    expect((await stack.request('POST', '/v1/schedules', { body, token: TOKENS.globex })).status).toBe(201);
    expect((await stack.request('DELETE', `/v1/schedules/${first.id}`)).status).toBe(204);
    expect((await stack.request('POST', '/v1/schedules', { body })).status).toBe(201);
  });

  it('when a cron fires more often than once a minute, then 422 naming cron (by default); once a minute with seconds is fine', async () => {
    stack = await Stack.start({ worker: false });
    const create = (cron: string) => stack!.request<Problem>('POST', '/v1/schedules', { body: { name: 'n', cron, file_urls: urls(1) } });
    for (const [cron, gap] of [
      ['* * * * * *', 1],
      ['*/30 * * * * *', 30],
      ['0,59 * * * * *', 1],
    ] as const) {
      const res = await create(cron);
      expect({ cron, status: res.status }).toEqual({ cron, status: 422 });
      expect(res.body.errors).toEqual([
        { path: 'cron', message: expect.stringMatching(new RegExp(`^fires every ${gap} s; schedules may fire at most once every 60 s`)) },
      ]);
    }
    for (const cron of ['0 * * * * *', '30 */5 * * * *', '* * * * *', '0 2 * * *']) expect((await create(cron)).status).toBe(201);
  });

  it('when runs download manifests, then they share the intake byte budget with job bodies: 503 with Retry-After beyond it', async () => {
    host = await startManifestHost();
    // Room for one manifest (MANIFEST_MAX_BYTES 4096) and a small body, not for two manifests.
    stack = await startStack({ worker: false, apiEnv: { INTAKE_MAX_INFLIGHT_BYTES: '6000' } });
    const slow = await createSchedule(stack, { name: 'slow', cron: '0 2 * * *', manifest_url: `${host.url}/slow.txt` });
    const quick = await createSchedule(stack, { name: 'quick', cron: '0 2 * * *', manifest_url: `${host.url}/list.txt` });
    const listed = await createSchedule(stack, { name: 'listed', cron: '0 2 * * *', file_urls: urls(1) });
    const held = stack.request('POST', `/v1/schedules/${slow.id}/run`); // holds its 4096 bytes for MANIFEST_TIMEOUT_MS
    await waitFor(async () => (host!.received.some((r) => r.path === '/slow.txt') ? true : undefined));

    const second = await stack.request<Problem>('POST', `/v1/schedules/${quick.id}/run`);
    expect(second.status).toBe(503);
    expect(second.body.type).toMatch(/\/unavailable$/);
    expect(second.headers.get('retry-after')).toBe('2');
    const bigBody = await stack.request('POST', '/v1/jobs', { body: { file_urls: urls(80) } }); // ~3.5 KB: over what is left
    expect(bigBody.status).toBe(503);
    // A schedule with its own list downloads nothing and reserves nothing.
    expect((await stack.request('POST', `/v1/schedules/${listed.id}/run`)).status).toBe(202);
    expect(host.received.filter((r) => r.path === '/list.txt')).toHaveLength(0);

    expect((await held).status).toBe(422); // the slow manifest timed out, and gave its bytes back
    expect((await stack.request('POST', `/v1/schedules/${quick.id}/run`)).status).toBe(202);
  });
});
