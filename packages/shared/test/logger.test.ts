import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, wantsPrettyLogs } from '../src/logger.js';

describe('logger', () => {
  it('when stdout is a terminal, then logs are pretty unless LOG_FORMAT=json; otherwise JSON', () => {
    expect(wantsPrettyLogs(undefined, { isTTY: true })).toBe(true);
    expect(wantsPrettyLogs('json', { isTTY: true })).toBe(false);
    expect(wantsPrettyLogs(undefined, { isTTY: false })).toBe(false);
    expect(wantsPrettyLogs('pretty', {})).toBe(true);
  });

  it('when an object carries secrets, then they are redacted in the JSON line', () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((out += chunk.toString()), done()) });
    const log = createLogger({ level: 'info', name: 't', destination: sink });
    log.info({ req: { headers: { authorization: 'Bearer tok-secret' } }, apiKey: 'sk-secret', jobId: 'job_1' }, 'x');
    expect(out).not.toContain('secret');
    expect(JSON.parse(out)).toMatchObject({ jobId: 'job_1', apiKey: '[redacted]' });
  });

  it('when logs are pretty, then an HTTP request is one line with method, URL, status and time, and other lines keep their message', () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((out += chunk.toString()), done()) });
    const log = createLogger({ level: 'info', name: 'api', destination: sink, pretty: true });
    log.info(
      { req: { id: 'r1', method: 'GET', url: '/v1/jobs/job_1', remoteAddress: '::1' }, res: { statusCode: 200 }, responseTime: 3 },
      'request completed',
    );
    log.info({ port: 3000 }, 'api listening');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/INFO.*\(api\): GET \/v1\/jobs\/job_1 200 3 ms$/);
    expect(lines[1]).toMatch(/INFO.*\(api\): api listening$/);
    expect(lines[2]).toMatch(/port: 3000/);
    expect(lines).toHaveLength(3);
  });
});
