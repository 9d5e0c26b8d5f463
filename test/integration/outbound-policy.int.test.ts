import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from '@jest/globals';
import { systemResolver, type Job, type Schedule } from '@batchscribe/shared';
import { HttpFixture } from '../support/http-fixture.js';
import { Stack, urls, type StackOptions } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

let stack: Stack | undefined;
let receiver: HttpFixture | undefined;
afterEach(async () => {
  await stack?.stop();
  await receiver?.close();
  stack = receiver = undefined;
});

/** A stack with the production default: no non-public network allowed (the harness allows 127.0.0.1/32). */
async function strictStack(opts: StackOptions = {}): Promise<Stack> {
  return Stack.start({
    ...opts,
    apiEnv: { OUTBOUND_ALLOWED_NETS: '', ...opts.apiEnv },
    workerEnv: { OUTBOUND_ALLOWED_NETS: '', ...opts.workerEnv },
  });
}

const jobState = async (s: Stack) => (await s.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));

const INTERNAL = [
  'http://127.0.0.2/hook',
  'http://2130706433/hook',
  'http://0x7f000001/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::1]:9464/metrics',
  'http://127.0.0.1:6379/',
  'http://169.254.169.254/latest/meta-data/',
  'http://10.1.2.3/hook',
  'http://100.64.0.1/hook',
  'http://192.168.0.10/hook',
  'http://[fd00::1]/hook',
];

describe('outbound policy at intake (default: public addresses only)', () => {
  it('when callback_url or manifest_url names an internal address in any form, then 422 naming the field, and nothing is written', async () => {
    stack = await strictStack({ worker: false });
    const before = await jobState(stack);
    for (const url of INTERNAL) {
      const requests: Array<[string, unknown, string, string?]> = [
        ['/v1/jobs', { file_urls: urls(1), callback_url: url }, 'callback_url'],
        [`/v1/jobs?callback_url=${encodeURIComponent(url)}`, urls(1).join('\n'), 'callback_url', 'text/plain'],
        ['/v1/schedules', { name: 'n', cron: '0 2 * * *', manifest_url: url }, 'manifest_url'],
        ['/v1/schedules', { name: 'n', cron: '0 2 * * *', file_urls: urls(1), job: { callback_url: url } }, 'job.callback_url'],
      ];
      for (const [path, body, field, type] of requests) {
        const res = await stack.request<Problem>('POST', path, { body, ...(type ? { headers: { 'content-type': type } } : {}) });
        expect({ url, path, status: res.status, type: res.body.type }).toEqual({
          url,
          path,
          status: 422,
          type: 'https://batchscribe.dev/problems/validation-error',
        });
        expect(res.body.errors).toEqual([{ path: field, message: expect.stringMatching(/address not in OUTBOUND_ALLOWED_NETS$/) }]);
      }
    }
    expect(await jobState(stack)).toEqual(before);
  });

  it('when a host name resolves to an internal address, then 422 naming the host and the kind, not the address', async () => {
    stack = await strictStack({
      worker: false,
      apiResolve: async (host) => (host === 'hooks.corp.example' ? ['10.20.30.40'] : systemResolver(host)),
    });
    const res = await stack.request<Problem>('POST', '/v1/jobs', {
      body: { file_urls: urls(1), callback_url: 'https://hooks.corp.example/in' },
    });
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe(
      'callback_url is not allowed: it names host hooks.corp.example, which resolves to a private (RFC 1918) address not in OUTBOUND_ALLOWED_NETS.',
    );
    expect(res.text).not.toContain('10.20.30.40');
    // localhost is a name too, resolved by the system.
    const local = await stack.request<Problem>('POST', '/v1/jobs', {
      body: { file_urls: urls(1), callback_url: 'http://localhost:9464/' },
    });
    expect(local.status).toBe(422);
    expect(local.body.errors?.[0]?.message).toMatch(/^names host localhost, which resolves to a loopback address/);
  });

  it('when OUTBOUND_ALLOWED_NETS names a net, then exactly that net is let through', async () => {
    stack = await Stack.start({ worker: false, apiEnv: { OUTBOUND_ALLOWED_NETS: '127.0.0.1/32,10.0.0.0/8' } });
    const submit = (callback_url: string) => stack!.request<Problem>('POST', '/v1/jobs', { body: { file_urls: urls(1), callback_url } });
    expect((await submit('http://127.0.0.1:9/hook')).status).toBe(202);
    expect((await submit('http://10.255.0.1/hook')).status).toBe(202);
    expect((await submit('http://127.0.0.2:9/hook')).status).toBe(422);
    expect((await submit('http://[::1]:9/hook')).status).toBe(422);
    expect((await submit('http://172.16.0.1/hook')).status).toBe(422);
    expect((await submit('http://169.254.169.254/')).status).toBe(422);
  });
});

describe('outbound policy at delivery', () => {
  it('when a callback host passed intake but resolves to loopback when the webhook is sent (DNS rebinding), then nothing is sent and last_error names no address', async () => {
    receiver = await HttpFixture.start();
    const port = new URL(receiver.url).port;
    const rebinding = ((hostname: string, _opts: unknown, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
      hostname === 'hooks.rebind.example'
        ? cb(null, [{ address: '127.0.0.1', family: 4 }])
        : cb(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), [])) as unknown as NonNullable<StackOptions['workerLookup']>;
    stack = await strictStack({
      // At intake the name points somewhere public; by the time the job ends it points at loopback.
      apiResolve: async (host) => (host === 'hooks.rebind.example' ? ['93.184.216.34'] : systemResolver(host)),
      workerLookup: rebinding,
      workerEnv: { WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_SECRET: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=' },
    });
    const created = await stack.submit({ file_urls: urls(1), callback_url: `http://hooks.rebind.example:${port}/hook` });
    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'failed');
    expect(job.webhook).toEqual({ status: 'failed', attempts: 1, last_error: 'the receiver could not be reached: address not allowed' });
    expect(receiver.received).toHaveLength(0);
  });

  it('when a manifest host redirects to an address outside the allowed nets, then the fire is refused and last_run.error names no address', async () => {
    const inside = await HttpFixture.start((_req, res) => void res.writeHead(200).end(urls(2).join('\n')), '127.0.0.2');
    receiver = await HttpFixture.start((req, res) => {
      if (req.path === '/list.txt') return void res.writeHead(302, { location: `${inside.url}/list.txt` }).end();
      res.writeHead(404).end();
    });
    try {
      // 127.0.0.1 (the first hop) is allowed; 127.0.0.2 (where it redirects) is not.
      stack = await Stack.start({ apiEnv: { SCHEDULE_MIN_INTERVAL_S: '1' } });
      const schedule = (
        await stack.request<Schedule>('POST', '/v1/schedules', {
          body: { name: 'hop', cron: '0 2 * * *', manifest_url: `${receiver.url}/list.txt` },
        })
      ).body;
      const run = await stack.request<Problem>('POST', `/v1/schedules/${schedule.id}/run`);
      expect(run.status).toBe(422);
      expect(run.body.detail).toBe(
        'The schedule made no job: manifest_url could not be fetched: redirect 1 leads to an address that is not allowed.',
      );
      expect(run.text).not.toContain('127.0.0.2');
      const after = await stack.request<Schedule>('GET', `/v1/schedules/${schedule.id}`);
      expect(after.body.last_run).toMatchObject({
        job_id: null,
        error: 'manifest_url could not be fetched: redirect 1 leads to an address that is not allowed',
      });

      // The worker's own fires go through its own Agent and say the same.
      const fired = (
        await stack.request<Schedule>('POST', '/v1/schedules', {
          body: { name: 'hop-cron', cron: '* * * * * *', manifest_url: `${receiver.url}/list.txt` },
        })
      ).body;
      const lastRun = await waitFor(
        async () => (await stack!.request<Schedule>('GET', `/v1/schedules/${fired.id}`)).body.last_run ?? undefined,
        { timeoutMs: 10_000, what: 'a fire' },
      );
      await stack.request('DELETE', `/v1/schedules/${fired.id}`);
      expect(lastRun).toMatchObject({
        job_id: null,
        error: 'manifest_url could not be fetched: redirect 1 leads to an address that is not allowed',
      });

      expect(inside.received).toHaveLength(0);
      const jobs = await stack.request<{ data: Job[] }>('GET', '/v1/jobs');
      expect(jobs.body.data).toEqual([]);
    } finally {
      await inside.close();
    }
  });
});
