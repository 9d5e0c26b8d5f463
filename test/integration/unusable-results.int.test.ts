import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { FileResult } from '@batchscribe/shared';
import { Stack, TOKENS } from '../support/stack.js';

/**
 * Result documents that arrive but cannot be used. The simulator's transcription links point
 * at this proxy (its publicBaseUrl), which forwards to the simulator except for the files it
 * is told to spoil, per file index of the (single) task, and counts every download.
 */
class SpoilingProxy {
  readonly downloads = new Map<number, number>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(spoil: (index: number, attempt: number) => 'garbage' | '503' | null, target: () => string): Promise<SpoilingProxy> {
    let proxy: SpoilingProxy | undefined;
    const server = createServer((req, res) => {
      const index = Number(/\/(\d+)\.json(?:\?|$)/.exec(req.url ?? '')?.[1] ?? -1);
      const attempt = (proxy!.downloads.get(index) ?? 0) + 1;
      proxy!.downloads.set(index, attempt);
      const how = spoil(index, attempt);
      if (how === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>upstream storage hiccup</html>');
        return;
      }
      if (how === '503') {
        res.writeHead(503).end();
        return;
      }
      void fetch(target() + (req.url ?? '')).then(async (upstream) => {
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new SpoilingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let stack: Stack | undefined;
let proxy: SpoilingProxy | undefined;
afterEach(async () => {
  await stack?.stop();
  await proxy?.close();
  stack = undefined;
  proxy = undefined;
});

async function startWith(spoil: (index: number, attempt: number) => 'garbage' | '503' | null): Promise<Stack> {
  let simUrl = '';
  proxy = await SpoilingProxy.start(spoil, () => simUrl);
  const s = await Stack.start({
    sim: { resultShape: 'url', publicBaseUrl: proxy.url },
    workerEnv: { FOXAPI_BACKOFF_BASE_MS: '50', FOXAPI_BACKOFF_MAX_MS: '200' },
  });
  simUrl = s.simUrl;
  return s;
}

const results = async (s: Stack, jobId: string) => (await s.request<{ data: FileResult[] }>('GET', `/v1/jobs/${jobId}/results`)).body.data;

describe('result documents that arrive unusable', () => {
  it('when one document is not JSON every time, then that file alone fails after a bounded number of tries and the good ones are stored once', async () => {
    // 0: good; 1: garbage once, then fine; 2: garbage always.
    stack = await startWith((index, attempt) => (index === 2 || (index === 1 && attempt === 1) ? 'garbage' : null));
    const files = ['good', 'flaky', 'broken'].map((n) => `https://m.example.com/${n}.wav`);
    const created = await stack.submit({ file_urls: files });
    const job = await stack.waitForJob(created.id);

    expect(job.status).toBe('completed_with_errors');
    const rs = await results(stack, created.id);
    expect(rs.map((r) => r.status)).toEqual(['completed', 'completed', 'failed']);
    expect(rs[2]!.error?.code).toBe('upstream_unparsable_result');
    expect(rs[0]!.transcript?.text).toContain('good.wav');
    // The good file was downloaded once; the broken one exactly three times, not for 14 hours.
    expect(proxy!.downloads.get(0)).toBe(1);
    expect(proxy!.downloads.get(1)).toBe(2);
    expect(proxy!.downloads.get(2)).toBe(3);
    // What came is kept for an operator.
    const raw = await fetch(`${stack.apiUrl}/v1/jobs/${created.id}/files/2/transcript?format=raw`, {
      headers: { authorization: `Bearer ${TOKENS.acme}` },
    });
    expect(await raw.text()).toBe('<html>upstream storage hiccup</html>');
    expect(stack.sim.stats().submissions).toBe(1);
  });

  it('when downloads fail transiently, then only the missing files are fetched again and the back-off is not reset by the polls in between', async () => {
    // File 1 answers 503 three times, then works.
    stack = await startWith((index, attempt) => (index === 1 && attempt <= 3 ? '503' : null));
    const files = ['a', 'b', 'c'].map((n) => `https://m.example.com/${n}.wav`);
    const created = await stack.submit({ file_urls: files });
    const job = await stack.waitForJob(created.id);

    expect(job.status).toBe('completed');
    expect(proxy!.downloads.get(0)).toBe(1);
    expect(proxy!.downloads.get(2)).toBe(1);
    expect(proxy!.downloads.get(1)).toBe(4);
    const batch = await stack.redis.hgetall(stack.keys.batch(created.id, 0));
    // Three failed collects in a row counted as three back-offs: no good poll reset them.
    expect(Number(batch.backoffs)).toBe(3);
  });
});
