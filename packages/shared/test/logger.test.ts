import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, wantsPrettyLogs } from '../src/logger.js';

describe('logger', () => {
  it('when stdout is a terminal, then logs are pretty unless LOG_FORMAT=json; otherwise JSON', () => {
    expect(wantsPrettyLogs({}, { isTTY: true })).toBe(true);
    expect(wantsPrettyLogs({ LOG_FORMAT: 'json' }, { isTTY: true })).toBe(false);
    expect(wantsPrettyLogs({}, { isTTY: false })).toBe(false);
    expect(wantsPrettyLogs({ LOG_FORMAT: 'pretty' }, {})).toBe(true);
  });

  it('when an object carries secrets, then they are redacted in the JSON line', () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((out += chunk.toString()), done()) });
    const log = createLogger({ level: 'info', name: 't', destination: sink });
    log.info({ req: { headers: { authorization: 'Bearer tok-secret' } }, apiKey: 'sk-secret', jobId: 'job_1' }, 'x');
    expect(out).not.toContain('secret');
    expect(JSON.parse(out)).toMatchObject({ jobId: 'job_1', apiKey: '[redacted]' });
  });
});
