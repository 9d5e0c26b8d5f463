import { request, type Dispatcher } from 'undici';
import type { OutboundPolicy } from './address-policy.js';

/** A redirect the policy refused (its target), or one too many; messages are safe to show. */
export class OutboundRedirectError extends Error {
  override readonly name = 'OutboundRedirectError';
  constructor(
    readonly code: 'ERR_OUTBOUND_ADDRESS_NOT_ALLOWED' | 'ERR_OUTBOUND_TOO_MANY_REDIRECTS' | 'ERR_OUTBOUND_BAD_REDIRECT',
    message: string,
  ) {
    super(message);
  }
}

export interface FollowOptions {
  /** An outbound Agent (createOutboundAgent): it checks the address each hop dials. */
  dispatcher: Dispatcher;
  policy: OutboundPolicy;
  maxRedirects: number;
  headers: Record<string, string>;
  signal: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET that follows redirects itself rather than through undici's interceptor, so each hop's
 * URL passes the intake check (scheme, resolved addresses) before it is requested, on top of
 * the Agent's check of the address dialled. Returns the final answer, body unread.
 */
export async function getFollowingRedirects(url: string, opts: FollowOptions): Promise<Dispatcher.ResponseData> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const refusal = await opts.policy.checkUrl(current);
    if (refusal) {
      throw new OutboundRedirectError(
        'ERR_OUTBOUND_ADDRESS_NOT_ALLOWED',
        hop === 0 ? 'address not allowed' : `redirect ${hop} leads to an address that is not allowed`,
      );
    }
    const res = await request(current, { method: 'GET', dispatcher: opts.dispatcher, headers: opts.headers, signal: opts.signal });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') return res;
    res.body.on('error', () => undefined);
    res.body.destroy();
    if (hop >= opts.maxRedirects)
      throw new OutboundRedirectError('ERR_OUTBOUND_TOO_MANY_REDIRECTS', `more than ${opts.maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new OutboundRedirectError('ERR_OUTBOUND_BAD_REDIRECT', `redirect ${hop + 1} has an invalid Location`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new OutboundRedirectError(
        'ERR_OUTBOUND_BAD_REDIRECT',
        `redirect ${hop + 1} leads to a ${next.protocol} URL; only http and https are followed`,
      );
    }
    current = next.toString();
  }
}
