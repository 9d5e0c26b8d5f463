import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { HttpFixture } from '../../../test/support/http-fixture.js';
import { OutboundPolicy, parseAllowedNets } from '../src/outbound/address-policy.js';
import { OutboundRedirectError, getFollowingRedirects } from '../src/outbound/follow-redirects.js';
import { OutboundAddressError, createOutboundAgent, type OutboundAgentOptions } from '../src/outbound/outbound-agent.js';
import { describeOutboundFailure } from '../src/outbound/outbound-failure.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function server(host = '127.0.0.1', respond?: Parameters<typeof HttpFixture.start>[0]): Promise<HttpFixture> {
  const s = await HttpFixture.start(
    respond ?? ((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${host}`)),
    host,
  );
  opened.push(s);
  return s;
}

function agent(nets: string, opts: OutboundAgentOptions = {}) {
  const policy = new OutboundPolicy(parseAllowedNets(nets));
  const a = createOutboundAgent(policy, opts);
  opened.push(a);
  return { policy, agent: a };
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

/** A resolver answering from a table, as dns.lookup would (the checking lookup always asks for all). */
function fakeLookup(table: Record<string, LookupAddress[]>): NonNullable<OutboundAgentOptions['lookup']> {
  return ((hostname: string, _options: unknown, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
    const found = table[hostname];
    if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, found);
  }) as unknown as NonNullable<OutboundAgentOptions['lookup']>;
}

describe('outbound agent: the address actually dialled', () => {
  it('when nothing is allowed, then a loopback literal is refused before any byte is sent', async () => {
    const target = await server();
    const { agent: a } = agent('');
    const err = await failureOf(request(`${target.url}/x`, { dispatcher: a }));
    expect(err).toBeInstanceOf(OutboundAddressError);
    expect(describeOutboundFailure(err)).toBe('address not allowed');
    expect(target.received).toHaveLength(0);
  });

  it('when 127.0.0.1/32 is allowed, then 127.0.0.1 is reached and the alias 127.0.0.2 is not', async () => {
    const one = await server('127.0.0.1');
    const two = await server('127.0.0.2');
    const { agent: a } = agent('127.0.0.1/32');
    const ok = await request(`${one.url}/`, { dispatcher: a });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('hello from 127.0.0.1');

    const err = await failureOf(request(`${two.url}/`, { dispatcher: a }));
    expect(describeOutboundFailure(err)).toBe('address not allowed');
    expect(two.received).toHaveLength(0);
    // The alias itself answers: it is the policy that refused, not the network.
    const direct = await request(`${two.url}/`);
    expect(await direct.body.text()).toBe('hello from 127.0.0.2');
  });

  it('when a name passed the intake check but now resolves to loopback (DNS rebinding), then the connection is refused', async () => {
    const target = await server();
    const port = new URL(target.url).port;
    const intake = new OutboundPolicy([], { resolve: async () => ['93.184.216.34'] });
    expect(await intake.checkUrl(`http://rebind.example:${port}/hook`)).toBeNull();

    const lookup = fakeLookup({
      'rebind.example': [{ address: '127.0.0.1', family: 4 }],
      'half.example': [
        { address: '93.184.216.34', family: 4 },
        { address: '::1', family: 6 },
      ],
    });
    const { agent: a } = agent('', { lookup });
    const err = await failureOf(request(`http://rebind.example:${port}/hook`, { dispatcher: a }));
    expect(err).toBeInstanceOf(OutboundAddressError);
    expect((err as OutboundAddressError).address).toBe('127.0.0.1');
    expect(describeOutboundFailure(err)).toBe('address not allowed');
    // One bad address in the answer spoils it all: the socket could pick either.
    expect(describeOutboundFailure(await failureOf(request(`http://half.example:${port}/`, { dispatcher: a })))).toBe(
      'address not allowed',
    );
    expect(target.received).toHaveLength(0);
  });

  it('when a name resolves into an allowed net, then it connects', async () => {
    const target = await server();
    const lookup = fakeLookup({ 'hooks.internal.example': [{ address: '127.0.0.1', family: 4 }] });
    const { agent: a } = agent('127.0.0.1/32', { lookup });
    const res = await request(`http://hooks.internal.example:${new URL(target.url).port}/`, { dispatcher: a });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(target.received[0]?.headers.host).toBe(`hooks.internal.example:${new URL(target.url).port}`);
  });

  it('when the port is closed, then the failure reads "connection refused" and names no address', async () => {
    const closed = await HttpFixture.start();
    await closed.close();
    const { agent: a } = agent('127.0.0.1/32');
    const err = await failureOf(request(`${closed.url}/`, { dispatcher: a }));
    expect(String((err as Error).message)).toMatch(/ECONNREFUSED 127\.0\.0\.1/); // what the operator's log keeps
    expect(describeOutboundFailure(err)).toBe('connection refused');
  });
});

describe('redirects: each hop checked', () => {
  const headers = { accept: '*/*' };

  it('when an allowed host redirects to a disallowed address, then the hop is refused and the message names no address', async () => {
    const inside = await server('127.0.0.2');
    const front = await server('127.0.0.1', (req, res) => {
      if (req.path === '/hop') return void res.writeHead(302, { location: `${inside.url}/secret` }).end();
      if (req.path === '/two') return void res.writeHead(301, { location: '/hop' }).end();
      res.writeHead(200).end('front');
    });
    const { policy, agent: a } = agent('127.0.0.1/32');
    const opts = { dispatcher: a, policy, maxRedirects: 5, headers, signal: AbortSignal.timeout(5_000) };
    const err = await failureOf(getFollowingRedirects(`${front.url}/two`, opts));
    expect(err).toBeInstanceOf(OutboundRedirectError);
    expect((err as Error).message).toBe('redirect 2 leads to an address that is not allowed');
    expect((err as Error).message).not.toContain('127.0.0.2');
    expect(describeOutboundFailure(err)).toBe('address not allowed');
    expect(inside.received).toHaveLength(0);
    expect(front.received.map((r) => r.path)).toEqual(['/two', '/hop']);
  });

  it('when redirects stay inside what is allowed, then the last answer is returned; too many or a non-http target is refused', async () => {
    const front = await server('127.0.0.1', (req, res) => {
      const n = Number(/^\/r(\d+)$/.exec(req.path)?.[1] ?? -1);
      if (n > 0) return void res.writeHead(307, { location: `/r${n - 1}` }).end();
      if (req.path === '/file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      res.writeHead(200).end('landed');
    });
    const { policy, agent: a } = agent('127.0.0.1/32');
    const opts = { dispatcher: a, policy, maxRedirects: 3, headers, signal: AbortSignal.timeout(5_000) };
    const res = await getFollowingRedirects(`${front.url}/r3`, opts);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('landed');
    expect(((await failureOf(getFollowingRedirects(`${front.url}/r4`, opts))) as Error).message).toBe('more than 3 redirects');
    expect(((await failureOf(getFollowingRedirects(`${front.url}/file`, opts))) as Error).message).toMatch(
      /file: URL; only http and https/,
    );
  });
});
