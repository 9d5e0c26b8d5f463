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

export function createLogger(opts: { level: string; name: string; destination?: NodeJS.WritableStream; pretty?: boolean }): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (opts.destination) return pino(options, opts.destination as pino.DestinationStream);
  if (opts.pretty)
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  return pino(options);
}

/**
 * Humans at a terminal get pino-pretty; everything else (containers, files, pipes) gets JSON.
 * LOG_FORMAT=json|pretty overrides the guess.
 */
export function wantsPrettyLogs(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): boolean {
  if (env.LOG_FORMAT === 'json') return false;
  if (env.LOG_FORMAT === 'pretty') return true;
  return stdout.isTTY === true;
}
