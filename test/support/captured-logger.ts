import { Writable } from 'node:stream';
import { createLogger } from '@batchscribe/shared';

/** One parsed pino line, with the fields the tests look at. */
export interface LogLine {
  level: number;
  msg: string;
  jobId?: string;
  batch?: number;
  taskId?: string;
  req?: { id?: string; url?: string; headers?: Record<string, string> };
  [field: string]: unknown;
}

/** A pino logger at trace level writing into memory, with the service's redaction. */
export function capturedLogger() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', name: 'test', destination });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine),
  };
}
