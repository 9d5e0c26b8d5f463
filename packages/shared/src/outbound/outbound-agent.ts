import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { OutboundPolicy } from './address-policy.js';

/**
 * A connection the policy refused. The message names the address, for the operator's logs;
 * what a tenant reads comes from describeOutboundFailure, which never repeats it.
 */
export class OutboundAddressError extends Error {
  override readonly name = 'OutboundAddressError';
  readonly code = 'ERR_OUTBOUND_ADDRESS_NOT_ALLOWED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    super(`refused to connect to ${host}${host === address ? '' : ` (${address})`}: a ${kind} address not in OUTBOUND_ALLOWED_NETS`);
  }
}

export interface OutboundAgentOptions {
  /** The resolver the sockets use; tests inject one to play a rebinding DNS server. */
  lookup?: typeof dnsLookup;
  /** TCP (and TLS) connect time limit. */
  connectTimeoutMs?: number;
}

/**
 * An undici Agent that checks every address it actually dials: host names through a lookup
 * that refuses the whole answer when any address in it is not allowed (so a resolver that
 * answers one thing at intake and another now gains nothing), IP literals before the socket
 * opens (Node does not call lookup for them). Pooled connections were checked when opened.
 */
export function createOutboundAgent(policy: OutboundPolicy, opts: OutboundAgentOptions = {}): Agent {
  const resolve = opts.lookup ?? dnsLookup;
  const lookup: LookupFunction = (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true };
    resolve(hostname, all, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => ({ a, verdict: policy.classify(a.address) })).find((x) => !x.verdict.allowed);
      if (refused) return callback(new OutboundAddressError(hostname, refused.a.address, refused.verdict.kind), '', 0);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
  const connector = buildConnector({ lookup, timeout: opts.connectTimeoutMs ?? 10_000 });
  return new Agent({
    connect: (connectOpts, callback) => {
      if (isIP(connectOpts.hostname)) {
        const verdict = policy.classify(connectOpts.hostname);
        if (!verdict.allowed) {
          callback(new OutboundAddressError(connectOpts.hostname, connectOpts.hostname, verdict.kind), null);
          return;
        }
      }
      connector(connectOpts, callback);
    },
  });
}
