import { afterEach, describe, expect, it } from '@jest/globals';
import { HttpFixture } from '../../../test/support/http-fixture.js';
import { OutboundPolicy, parseAllowedNets } from '../src/outbound/address-policy.js';
import { createOutboundAgent } from '../src/outbound/outbound-agent.js';
import { ManifestError, ManifestFetcher } from '../src/schedules/manifest.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

function fetcher(nets: string): ManifestFetcher {
  const policy = new OutboundPolicy(parseAllowedNets(nets));
  const dispatcher = createOutboundAgent(policy);
  opened.push(dispatcher);
  return new ManifestFetcher({ maxFiles: 10, timeoutMs: 2_000, dispatcher, policy });
}

async function errorOf(p: Promise<unknown>): Promise<ManifestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw err;
  }
  throw new Error('expected a ManifestError');
}

describe('ManifestFetcher through the outbound policy', () => {
  it('when the manifest host is in an allowed net, then its list is read', async () => {
    const host = await HttpFixture.start(
      (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('https://a.example/1.wav\n'),
    );
    opened.push(host);
    expect(await fetcher('127.0.0.1/32').fetch(`${host.url}/list.txt`)).toEqual([{ url: 'https://a.example/1.wav' }]);
  });

  it('when the manifest host is loopback and nothing is allowed, then it is refused before connecting, naming no address', async () => {
    const host = await HttpFixture.start();
    opened.push(host);
    for (const url of [`${host.url}/list.txt`, `http://localhost:${new URL(host.url).port}/list.txt`]) {
      const err = await errorOf(fetcher('').fetch(url));
      expect(err.code).toBe('manifest_unreachable');
      expect(err.message).toBe('manifest_url could not be fetched: address not allowed');
    }
    expect(host.received).toHaveLength(0);
  });

  it('when nothing listens, then "connection refused" for the tenant and the socket error kept for the logs', async () => {
    const closed = await HttpFixture.start();
    await closed.close();
    const err = await errorOf(fetcher('127.0.0.1/32').fetch(`${closed.url}/list.txt`));
    expect(err.message).toBe('manifest_url could not be fetched: connection refused');
    expect(err.detail).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
  });
});
