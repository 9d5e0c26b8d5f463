import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ProblemError } from '../http/problem.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * HTTP Basic with one shared password and any user name (operators log in with ADMIN_TOKEN).
 * Digests are compared in constant time, so the check's timing says nothing about the token.
 */
export function basicAuth(password: string, realm: string): RequestHandler {
  const expected = digest(password);
  return (req, _res, next) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const given = decoded.slice(decoded.indexOf(':') + 1);
    if (match && decoded.includes(':') && timingSafeEqual(digest(given), expected)) return next();
    next(
      new ProblemError('unauthorized', 'Log in with any user name and ADMIN_TOKEN as the password.', undefined, {
        'www-authenticate': `Basic realm="${realm}", charset="UTF-8"`,
      }),
    );
  };
}
