import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FaultStack, TOKEN } from '../support/fault-stack.js';
import { TrickleSocket } from '../support/trickle-socket.js';
import { urls } from '../support/stack.js';

/*
 * A refused body is never read into memory (docs/architecture.md, "Intake"), but its client
 * must still get to read the refusal: the api runs as its own process, as in production, so
 * the client's writes and the api's answer race as they do over a real network.
 */

const BIG = 16 * 1024 * 1024;
let stack: FaultStack;
let holder: TrickleSocket;
beforeAll(async () => {
  stack = await FaultStack.start({
    apiEnv: {
      MAX_BODY_BYTES: String(BIG),
      INTAKE_MAX_INFLIGHT_BYTES: String(BIG),
      INTAKE_RATE_LIMIT_PER_MIN: '0',
      INTAKE_BODY_TIMEOUT_MS: '60000',
    },
  });
  await stack.startApi();
});
afterAll(async () => {
  holder?.close();
  await stack.stop();
});

describe('intake refusals', () => {
  it('when large bodies are refused while their clients are still sending them, then every client reads its 503 and Retry-After, none a reset connection', async () => {
    // The whole budget is held by one body that keeps arriving …
    holder = await TrickleSocket.open(stack.apiUrl, { token: TOKEN, declaredBytes: BIG, everyMs: 200 });
    await new Promise((r) => setTimeout(r, 300));
    // … so bodies larger than the sockets' buffers are refused at once, while still being sent.
    const body = Buffer.from(JSON.stringify({ file_urls: urls(100_000, 'refused') }));
    expect(body.length).toBeGreaterThan(4 * 1024 * 1024);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch(`${stack.apiUrl}/v1/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body,
          }).then(
            async (res) => ({
              status: res.status,
              retryAfter: res.headers.get('retry-after'),
              type: ((await res.json()) as { type: string }).type,
            }),
            (err: Error & { cause?: Error }) => ({ status: 0, retryAfter: null, type: err.cause?.message ?? err.message }),
          ),
        ),
      );
      for (const a of answers)
        expect(a).toEqual({
          status: 503,
          retryAfter: expect.stringMatching(/^\d+$/),
          type: 'https://batchscribe.dev/problems/unavailable',
        });
    }
  });
});
