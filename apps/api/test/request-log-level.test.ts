import { describe, expect, it } from '@jest/globals';
import { requestLogLevel } from '../src/server.js';

describe('request log level', () => {
  it('when probes, scrapes or the dashboard poll and succeed, then their lines are debug; API requests stay info', () => {
    for (const url of ['/healthz', '/readyz', '/readyz?strict', '/metrics', '/admin/queues/api/queues?activeQueue=batches']) {
      expect([url, requestLogLevel(200, false, url)]).toEqual([url, 'debug']);
    }
    for (const url of ['/v1/jobs', '/v1/jobs/job_1', '/admin/queues', '/readyzz', '/docs/']) {
      expect([url, requestLogLevel(200, false, url)]).toEqual([url, 'info']);
    }
  });

  it('when a polled route fails, then it is logged like any failure', () => {
    expect(requestLogLevel(503, false, '/readyz')).toBe('warn');
    expect(requestLogLevel(500, false, '/metrics')).toBe('error');
    expect(requestLogLevel(401, false, '/admin/queues/api/queues')).toBe('warn');
  });
});
