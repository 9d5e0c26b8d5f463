import { describe, expect, it } from '@jest/globals';
import { OutboundPolicy, parseAllowedNets } from '../src/outbound/address-policy.js';
import { describeOutboundFailure } from '../src/outbound/outbound-failure.js';
import { OutboundAddressError } from '../src/outbound/outbound-agent.js';

const noDns = async (): Promise<string[]> => {
  throw Object.assign(new Error('no DNS in this test'), { code: 'ENOTFOUND' });
};
const byDefault = new OutboundPolicy([], { resolve: noDns });

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['::ffff:10.0.0.1', 'private (RFC 1918)'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['2130706433', 'unparsable'],
    ['127.1', 'unparsable'],
  ])('when the address is %s, then it is refused as %s', (address, kind) => {
    expect(byDefault.classify(address)).toEqual({ allowed: false, kind });
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'when the address %s is public, then it is allowed',
    (address) => {
      expect(byDefault.classify(address)).toEqual({ allowed: true, kind: 'public' });
    },
  );

  it('when a net is allowed, then exactly that net gets through', () => {
    const one = new OutboundPolicy(parseAllowedNets('127.0.0.1/32'));
    expect(one.classify('127.0.0.1').allowed).toBe(true);
    expect(one.classify('::ffff:127.0.0.1').allowed).toBe(true);
    expect(one.classify('127.0.0.2').allowed).toBe(false);
    expect(one.classify('::1').allowed).toBe(false);

    const ten = new OutboundPolicy(parseAllowedNets(' 10.0.0.0/8 , ::1/128,192.168.7.7'));
    expect(['10.0.0.1', '10.255.255.254', '::1', '192.168.7.7'].map((a) => ten.classify(a).allowed)).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '172.16.0.1', '192.168.7.8', '127.0.0.1', '169.254.169.254'].map((a) => ten.classify(a))).toEqual([
      { allowed: true, kind: 'public' },
      { allowed: false, kind: 'private (RFC 1918)' },
      { allowed: false, kind: 'private (RFC 1918)' },
      { allowed: false, kind: 'loopback' },
      { allowed: false, kind: 'link-local' },
    ]);
    // A net written IPv4-mapped means the IPv4 net.
    expect(new OutboundPolicy(parseAllowedNets('::ffff:10.0.0.0/104')).classify('10.9.9.9').allowed).toBe(true);
  });

  it('when an entry is not a network, then parsing names it', () => {
    expect(() => parseAllowedNets('10.0.0.0/8,10.0.0.0/33')).toThrow('"10.0.0.0/33" is not a network in CIDR form');
    expect(() => parseAllowedNets('intranet')).toThrow('"intranet" is not a network');
    expect(parseAllowedNets('')).toEqual([]);
  });
});

describe('intake check of a URL', () => {
  it.each([
    'http://127.0.0.2/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1:6379/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:9464/metrics',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5/hook',
    'http://100.64.1.1/',
    'http://[fd00::1]/',
    'http://0.0.0.0:3000/',
  ])('when the URL is %s, then it is refused without resolving anything', async (url) => {
    const refusal = await byDefault.checkUrl(url);
    expect(refusal).toMatch(/^names a .+ address not in OUTBOUND_ALLOWED_NETS$/);
  });

  it('when a host name resolves to any non-public address, then it is refused, naming the host but no address', async () => {
    const dns: Record<string, string[]> = {
      'hooks.internal.example': ['10.0.0.7'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
    };
    const policy = new OutboundPolicy([], { resolve: async (host) => dns[host] ?? noDns() });
    const internal = await policy.checkUrl('https://hooks.internal.example/batchscribe');
    expect(internal).toBe('names host hooks.internal.example, which resolves to a private (RFC 1918) address not in OUTBOUND_ALLOWED_NETS');
    expect(internal).not.toContain('10.0.0.7');
    expect(await policy.checkUrl('https://mixed.example/')).toMatch(/loopback/);
    expect(await policy.checkUrl('https://public.example/')).toBeNull();
    // Not resolvable now, or not in time: let through, every connection checks what it dials.
    expect(await policy.checkUrl('https://nowhere.example/')).toBeNull();
    const stuck = new OutboundPolicy([], { resolve: () => new Promise<string[]>(() => undefined), resolveTimeoutMs: 50 });
    expect(await stuck.checkUrl('https://slow-dns.example/')).toBeNull();
  });

  it('when the net is allowed, then its literal and its names pass', async () => {
    const policy = new OutboundPolicy(parseAllowedNets('10.0.0.0/8'), { resolve: async () => ['10.0.0.7'] });
    expect(await policy.checkUrl('http://10.1.1.1:8080/')).toBeNull();
    expect(await policy.checkUrl('http://hooks.internal.example/')).toBeNull();
    expect(await policy.checkUrl('http://192.168.0.1/')).toMatch(/private/);
  });
});

describe('tenant-safe failure texts', () => {
  it('when a low-level error carries addresses, then the text names only what happened', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeOutboundFailure(refused)).toBe('connection refused');
    expect(describeOutboundFailure(new TypeError('fetch failed', { cause: refused }))).toBe('connection refused');
    expect(describeOutboundFailure(new OutboundAddressError('localhost', '127.0.0.1', 'loopback'))).toBe('address not allowed');
    expect(describeOutboundFailure(new AggregateError([new OutboundAddressError('h', '::1', 'loopback')]))).toBe('address not allowed');
    expect(describeOutboundFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('timed out');
    expect(describeOutboundFailure(Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }))).toBe('timed out');
    expect(describeOutboundFailure(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('host not found');
    expect(describeOutboundFailure(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('TLS handshake failed');
    expect(describeOutboundFailure(new Error('something odd at 10.0.0.1'))).toBe('request failed');
  });
});
