import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ProblemError } from './problem.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by bearerAuth: the tenant whose token made the request. */
      tenant?: string;
    }
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Bearer auth from API_KEYS. Tokens are looked up by their SHA-256, so the lookup's timing says
 * nothing about how much of a guessed token matched.
 */
export function bearerAuth(tokens: ReadonlyMap<string, string> | undefined): RequestHandler {
  const byDigest = new Map([...(tokens ?? [])].map(([token, tenant]) => [digest(token), tenant]));
  return (req, _res, next) => {
    if (!tokens) {
      req.tenant = 'default';
      return next();
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const tenant = match ? byDigest.get(digest(match[1]!)) : undefined;
    if (!tenant) {
      return next(
        new ProblemError('unauthorized', match ? 'The bearer token is not valid.' : 'Send Authorization: Bearer <token>.', undefined, {
          'www-authenticate': 'Bearer realm="batchscribe"',
        }),
      );
    }
    req.tenant = tenant;
    next();
  };
}

export function tenantOf(req: { tenant?: string }): string {
  if (!req.tenant) throw new Error('route mounted without bearerAuth');
  return req.tenant;
}
