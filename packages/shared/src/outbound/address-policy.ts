import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses batchscribe may connect to on a tenant's behalf (callback_url, manifest_url).
 * Only global unicast addresses are reachable, unless an operator lists a network in
 * OUTBOUND_ALLOWED_NETS: anything else (loopback, RFC 1918, link-local and the cloud metadata
 * address, unique-local, CGNAT, multicast, unspecified, documentation and other reserved
 * ranges) would let a tenant reach the service's own network.
 */

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** One entry of OUTBOUND_ALLOWED_NETS. */
export interface AllowedNet {
  readonly text: string;
  readonly range: [IpAddress, number];
}

/** What an address is, in the words a refusal uses ("loopback", "private", …; "public" when reachable). */
export type AddressKind = string;

export type AddressVerdict = { allowed: true; kind: AddressKind } | { allowed: false; kind: AddressKind };

/** `10.0.0.0/8,::1/128,192.168.1.7` → nets; a bare address is that one host. Throws naming the bad entry. */
export function parseAllowedNets(raw: string): AllowedNet[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((text) => {
      let range: [IpAddress, number];
      try {
        range = text.includes('/') ? ipaddr.parseCIDR(text) : hostRange(ipaddr.parse(text));
      } catch {
        throw new Error(`"${text}" is not a network in CIDR form such as 10.0.0.0/8 or ::1/128`);
      }
      // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are judged unmapped, so the net is too.
      const [base, bits] = range;
      const mapped = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96;
      return { text, range: mapped ? [unmapped(base), bits - 96] : range };
    });
}

function hostRange(addr: IpAddress): [IpAddress, number] {
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

/** `::ffff:127.0.0.1` is 127.0.0.1 to the kernel: judge it as the IPv4 address it carries. */
function unmapped(addr: IpAddress): IpAddress {
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  }
  return addr;
}

/** NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits; IPv6-only networks reach every IPv4 host through it. */
function embeddedNat64(addr: IpAddress): IpAddress | null {
  if (addr.kind() !== 'ipv6' || addr.range() !== 'rfc6052') return null;
  const bytes = addr.toByteArray().slice(12);
  return ipaddr.fromByteArray(bytes);
}

/** Parses an address the way the URL parser and the resolver produce it; brackets allowed. */
export function parseAddress(text: string): IpAddress | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Canonical forms only (Node's own test): ipaddr alone also takes "127.1", "2130706433" and
  // octal parts. The URL parser has already normalised those, and a resolver never returns them.
  if (isIP(bare) === 0) return null;
  return ipaddr.parse(bare);
}

export type Resolver = (hostname: string) => Promise<string[]>;

/** The system resolver, every address (v4 and v6) it returns. */
export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export class OutboundPolicy {
  private readonly resolve: Resolver;
  private readonly resolveTimeoutMs: number;

  constructor(
    private readonly allowedNets: readonly AllowedNet[],
    /** `resolveTimeoutMs` (default 2 s) bounds how long an intake request waits on DNS. */
    opts: { resolve?: Resolver; resolveTimeoutMs?: number } = {},
  ) {
    this.resolve = opts.resolve ?? systemResolver;
    this.resolveTimeoutMs = opts.resolveTimeoutMs ?? 2_000;
  }

  /** The verdict on one address (a literal, not a host name). Unparsable text is refused. */
  classify(address: string): AddressVerdict {
    const parsed = parseAddress(address);
    if (!parsed) return { allowed: false, kind: 'unparsable' };
    const addr = embeddedNat64(parsed) ?? unmapped(parsed);
    if (this.allowedNets.some((net) => net.range[0].kind() === addr.kind() && addr.match(net.range))) {
      return { allowed: true, kind: 'allowed-net' };
    }
    const range = addr.range();
    return range === 'unicast' ? { allowed: true, kind: 'public' } : { allowed: false, kind: describeRange(range) };
  }

  /**
   * Intake's check of a URL a tenant gave: null when its host is allowed, else why not, in
   * words fit for a 422 (the tenant named the host, so its kind may be told; no address is).
   * A name that does not resolve now (or not within resolveTimeoutMs) is let through: DNS may
   * be briefly down, and every connection checks the address it dials anyway.
   */
  async checkUrl(url: string): Promise<string | null> {
    let hostname: string;
    try {
      hostname = new URL(url).hostname;
    } catch {
      return 'is not a valid URL';
    }
    if (parseAddress(hostname)) {
      const verdict = this.classify(hostname);
      return verdict.allowed ? null : `names a ${verdict.kind} address not in OUTBOUND_ALLOWED_NETS`;
    }
    let addresses: string[];
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('resolver timed out')), this.resolveTimeoutMs);
      });
      addresses = await Promise.race([this.resolve(hostname), timeout]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
    for (const address of addresses) {
      const verdict = this.classify(address);
      if (!verdict.allowed) return `names host ${hostname}, which resolves to a ${verdict.kind} address not in OUTBOUND_ALLOWED_NETS`;
    }
    return null;
  }
}

const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'shared (CGNAT)',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
};

function describeRange(range: string): string {
  return RANGE_WORDS[range] ?? 'reserved';
}
