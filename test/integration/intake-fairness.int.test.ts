import { afterEach, describe, expect, it } from '@jest/globals';
import { Stack, TOKENS, openApiContract, urls } from '../support/stack.js';
import { TrickleSocket, type TrickleAnswer } from '../support/trickle-socket.js';
import { waitFor } from '../support/wait-for.js';

/*
 * One tenant's slow uploads must not lock the others out of intake: trickling bodies are cut
 * once they fall behind the minimum pace (408), and a tenant over its fair share of the intake
 * budget gives way to another tenant (its newest unfinished body is cut with 503).
 */

interface Problem {
  type: string;
  status: number;
  detail: string;
}

/** A raw socket's answer, checked against the OpenAPI document like every answer the Stack sees. */
function expectDocumented(answer: TrickleAnswer): void {
  const headers = new Headers(answer.headers);
  openApiContract().expectConforms('post', '/v1/jobs', { status: answer.status, headers, body: answer.body, text: answer.body });
}

let stack: Stack | undefined;
const sockets: TrickleSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await stack?.stop();
  stack = undefined;
});

const BODY_LIMIT = 100_000;

async function trickle(s: Stack, token: string): Promise<TrickleSocket> {
  const socket = await TrickleSocket.open(s.apiUrl, { token, declaredBytes: BODY_LIMIT, everyMs: 200 });
  sockets.push(socket);
  return socket;
}

describe('intake fairness', () => {
  it('when a tenant holds the whole budget with two trickling uploads, then another tenant’s one-file job is accepted at once and the newest trickle is cut with 503', async () => {
    stack = await Stack.start({
      worker: false,
      apiEnv: {
        MAX_BODY_BYTES: String(BODY_LIMIT),
        INTAKE_MAX_INFLIGHT_BYTES: String(2 * BODY_LIMIT),
        INTAKE_RATE_LIMIT_PER_MIN: '0',
        INTAKE_BODY_TIMEOUT_MS: '60000',
      },
    });
    const s = stack;
    const first = await trickle(s, TOKENS.acme);
    await new Promise((r) => setTimeout(r, 200));
    const second = await trickle(s, TOKENS.acme);
    await new Promise((r) => setTimeout(r, 300));
    // The budget is full: acme itself cannot add more while it is alone in holding it all.
    const acmeMore = await s.request<Problem>('POST', '/v1/jobs', { body: { file_urls: urls(1, 'acme') } });
    expect(acmeMore.status).toBe(503);

    const globex = await s.request<Problem>('POST', '/v1/jobs', { body: { file_urls: urls(1, 'globex') }, token: TOKENS.globex });
    expect(globex.status).toBe(202);

    const cut = await second.answer;
    expect(cut.status).toBe(503);
    expect(cut.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(cut.headers['retry-after'])).toBeGreaterThan(0);
    expect((JSON.parse(cut.body) as Problem).type).toBe('https://batchscribe.dev/problems/unavailable');
    expectDocumented(cut);
    // The older trickle keeps its one body: a tenant is never cut below one.
    let firstAnswered = false;
    void first.answer.then(() => (firstAnswered = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(firstAnswered).toBe(false);
  });

  it('when another tenant is waiting for room, then a tenant holding its share gets 503 for a further job until the other got in', async () => {
    stack = await Stack.start({
      worker: false,
      apiEnv: {
        MAX_BODY_BYTES: String(BODY_LIMIT),
        INTAKE_MAX_INFLIGHT_BYTES: String(BODY_LIMIT + 50_000),
        INTAKE_RATE_LIMIT_PER_MIN: '0',
        INTAKE_BODY_TIMEOUT_MS: '60000',
      },
    });
    const s = stack;
    // acme holds one full-size body (its one body is never pre-empted) …
    await trickle(s, TOKENS.acme);
    // … so globex's full-size body does not fit, and globex now counts as waiting.
    const globexBig = await TrickleSocket.open(s.apiUrl, { token: TOKENS.globex, declaredBytes: BODY_LIMIT, everyMs: 200 });
    sockets.push(globexBig);
    expect((await globexBig.answer).status).toBe(503);
    // With globex waiting, acme's share is half the budget: it already holds more, so a small job waits too.
    const acmeSmall = await s.request<Problem>('POST', '/v1/jobs', { body: { file_urls: urls(1, 'acme') } });
    expect(acmeSmall.status).toBe(503);
    expect(acmeSmall.body.detail).toMatch(/share/);
    // globex's small job fits in what is left of the budget.
    expect((await s.request('POST', '/v1/jobs', { body: { file_urls: urls(1, 'globex') }, token: TOKENS.globex })).status).toBe(202);
  });

  it('when a tenant is over its share but nobody waits and the budget has room, then its job is taken in', async () => {
    stack = await Stack.start({
      worker: false,
      apiEnv: {
        MAX_BODY_BYTES: String(BODY_LIMIT),
        INTAKE_MAX_INFLIGHT_BYTES: String(3 * BODY_LIMIT),
        INTAKE_RATE_LIMIT_PER_MIN: '0',
        INTAKE_BODY_TIMEOUT_MS: '60000',
      },
    });
    const s = stack;
    await trickle(s, TOKENS.acme);
    await trickle(s, TOKENS.globex);
    await new Promise((r) => setTimeout(r, 300));
    // Two tenants hold budget: acme's share is 1.5 bodies, and this job takes it past that.
    const body = { file_urls: urls(1_400, 'roomy') };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeGreaterThan(BODY_LIMIT / 2);
    expect((await s.request('POST', '/v1/jobs', { body })).status).toBe(202);
  });

  it('when a body trickles slower than INTAKE_BODY_MIN_BYTES_PER_S after INTAKE_BODY_TIMEOUT_MS, then it is cut with 408 problem+json and its budget is free again', async () => {
    stack = await Stack.start({
      worker: false,
      apiEnv: {
        MAX_BODY_BYTES: String(BODY_LIMIT),
        INTAKE_MAX_INFLIGHT_BYTES: String(BODY_LIMIT),
        INTAKE_RATE_LIMIT_PER_MIN: '0',
        INTAKE_BODY_TIMEOUT_MS: '600',
        INTAKE_BODY_MIN_BYTES_PER_S: '1000',
      },
    });
    const s = stack;
    const started = Date.now();
    const slow = await trickle(s, TOKENS.acme);
    await new Promise((r) => setTimeout(r, 200));
    // While it is held, the budget is full.
    expect((await s.request('POST', '/v1/jobs', { body: { file_urls: urls(1) }, token: TOKENS.globex })).status).toBe(503);

    const answer = await slow.answer;
    expect(answer.status).toBe(408);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(answer.body) as Problem;
    expect(problem.type).toBe('https://batchscribe.dev/problems/request-timeout');
    expect(problem.status).toBe(408);
    expectDocumented(answer);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slow.bytesSent).toBeLessThan(100);

    // Freed: a full-size job of another tenant gets in, and so does a steady upload.
    await waitFor(
      async () => {
        const res = await s.request('POST', '/v1/jobs', { body: { file_urls: urls(1, 'after') }, token: TOKENS.globex });
        return res.status === 202 ? true : undefined;
      },
      { timeoutMs: 3_000, what: 'the budget freed' },
    );
  });

  it('when a body arrives steadily above the minimum pace, then it is taken in although it takes longer than INTAKE_BODY_TIMEOUT_MS', async () => {
    stack = await Stack.start({
      worker: false,
      apiEnv: { INTAKE_RATE_LIMIT_PER_MIN: '0', INTAKE_BODY_TIMEOUT_MS: '300', INTAKE_BODY_MIN_BYTES_PER_S: '2000' },
    });
    const body = JSON.stringify({ file_urls: urls(150, 'steady') });
    expect(Buffer.byteLength(body)).toBeGreaterThan(6_000);
    const started = Date.now();
    // ~4 KB/s: the whole body takes over a second, well past the 300 ms of slack, never behind the pace.
    const steady = await TrickleSocket.open(stack.apiUrl, {
      token: TOKENS.acme,
      declaredBytes: Buffer.byteLength(body),
      everyMs: 50,
      chunkBytes: 200,
      body,
    });
    sockets.push(steady);
    const answer = await steady.answer;
    expect(answer.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThan(1_000);
  });
});
