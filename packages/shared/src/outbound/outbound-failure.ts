/**
 * What a failed outbound request comes to, in the words a tenant may read: what the far end
 * did, never the low-level error text (which can carry internal addresses and ports).
 */
export type OutboundFailure =
  | 'address not allowed'
  | 'timed out'
  | 'connection refused'
  | 'connection closed'
  | 'host not found'
  | 'host unreachable'
  | 'TLS handshake failed'
  | 'too many redirects'
  | 'request failed';

const BY_CODE: Record<string, OutboundFailure> = {
  ERR_OUTBOUND_ADDRESS_NOT_ALLOWED: 'address not allowed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection closed',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EAI_NONAME: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
  EPROTO: 'TLS handshake failed',
  UND_ERR_MAX_REDIRECTIONS: 'too many redirects',
  ERR_OUTBOUND_TOO_MANY_REDIRECTS: 'too many redirects',
};

export function describeOutboundFailure(err: unknown): OutboundFailure {
  // undici wraps some causes (fetch-style TypeError, AggregateError of a v4/v6 race): look inside.
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  let found: OutboundFailure | null = null;
  while (queue.length > 0 && found === null) {
    const e = queue.shift() as { name?: string; code?: string; cause?: unknown; errors?: unknown[] } | null;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (e.name === 'TimeoutError' || e.name === 'AbortError') found = 'timed out';
    else if (e.code && BY_CODE[e.code]) found = BY_CODE[e.code] ?? null;
    else if (e.code && /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(e.code)) found = 'TLS handshake failed';
    queue.push(e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return found ?? 'request failed';
}
