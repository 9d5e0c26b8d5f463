import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty, { type PrettyOptions } from 'pino-pretty';

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
  if (opts.pretty) {
    const colorize = opts.destination === undefined;
    return pino(options, pretty({ ...PRETTY, colorize, ...(opts.destination ? { destination: opts.destination } : {}) }));
  }
  if (opts.destination) return pino(options, opts.destination as pino.DestinationStream);
  return pino(options);
}

interface RequestLine {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/**
 * A terminal gets one line per HTTP request (`GET /v1/jobs/… 200 3 ms`) instead of the request
 * and response objects spread over ten; other lines keep their fields. Formatted in-process (a
 * function cannot cross to a transport's thread).
 */
const PRETTY: PrettyOptions = {
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,req,res,responseTime',
  messageFormat: (log, messageKey) => {
    const { req, res, responseTime } = log as RequestLine;
    if (req?.method === undefined) return String(log[messageKey] ?? '');
    const time = typeof responseTime === 'number' ? ` ${responseTime} ms` : '';
    return `${req.method} ${req.url ?? ''} ${res?.statusCode ?? '-'}${time}`;
  },
};

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Humans at a terminal get pino-pretty; everything else (containers, files, pipes) gets JSON.
 * A LOG_FORMAT from the env schema overrides the guess.
 */
export function wantsPrettyLogs(format: LogFormat | undefined, stdout: { isTTY?: boolean } = process.stdout): boolean {
  if (format !== undefined) return format === 'pretty';
  return stdout.isTTY === true;
}
