import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * pino JSON with the secrets this service handles redacted wherever they may appear in a
 * logged object (request headers, config, errors from HTTP clients).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'apiKey',
  'FOXAPI_API_KEY',
  'WEBHOOK_SECRET',
  'ADMIN_TOKEN',
  'API_KEYS',
  'config.FOXAPI_API_KEY',
  'config.WEBHOOK_SECRET',
  'config.ADMIN_TOKEN',
  'config.API_KEYS',
];

export function createLogger(opts: { level: string; name: string; destination?: NodeJS.WritableStream }): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
