import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@batchscribe/shared';
import { loadApiEnv } from '../src/env.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadApiEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('api configuration', () => {
  it('when LOG_FORMAT is set, then it is read from the schema, and an unknown format names the variable', () => {
    expect(loadApiEnv({ AUTH_DISABLED: 'true', LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(loadApiEnv({ AUTH_DISABLED: 'true' }).LOG_FORMAT).toBeUndefined();
    expect(problems({ AUTH_DISABLED: 'true', LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT: must be one of json, pretty']);
  });

  it('when API_KEYS holds pairs, then tokens map to tenants', () => {
    const env = loadApiEnv({ API_KEYS: 'acme:t1, globex:t2' });
    expect([...(env.API_KEYS ?? [])]).toEqual([
      ['t1', 'acme'],
      ['t2', 'globex'],
    ]);
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe('0.0.0.0');
  });

  it('when TENANT_BUDGETS is set, then the api reads it too (GET /v1/usage shows it), and a bad value names it', () => {
    expect(loadApiEnv({ AUTH_DISABLED: 'true', TENANT_BUDGETS: 'acme:12.5' }).TENANT_BUDGETS.get('acme')).toBe(12.5);
    expect(problems({ AUTH_DISABLED: 'true', TENANT_BUDGETS: 'acme=12' })).toEqual([expect.stringMatching(/^TENANT_BUDGETS: must be/)]);
  });

  it('when API_KEYS is unset and auth is not disabled, then the api refuses to start', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^API_KEYS: is required/)]);
    expect(loadApiEnv({ AUTH_DISABLED: 'true' }).API_KEYS).toBeUndefined();
  });

  it('when API_KEYS is malformed, then the problem names it', () => {
    expect(problems({ API_KEYS: 'no-colon' })).toEqual([expect.stringMatching(/^API_KEYS: /)]);
    expect(problems({ API_KEYS: 'a:t,b:t' })).toEqual([expect.stringMatching(/^API_KEYS: a token appears twice/)]);
  });

  it('when numbers and secrets are malformed, then each problem names its variable', () => {
    const found = problems({ API_KEYS: 'a:t', PORT: '99999', BATCH_SIZE: '101', WEBHOOK_SECRET: 'plain', QUEUE_PREFIX: 'has space' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['BATCH_SIZE', 'PORT', 'QUEUE_PREFIX', 'WEBHOOK_SECRET']);
  });

  it('when MAX_BODY_BYTES is not set, then it leaves room for MAX_FILES_PER_JOB URLs', () => {
    expect(loadApiEnv({ AUTH_DISABLED: 'true', MAX_FILES_PER_JOB: '1000' }).MAX_BODY_BYTES).toBe(1000 * 512 + 1024 * 1024);
  });

  it('when INTAKE_MAX_INFLIGHT_BYTES is not set, then two of the largest bodies may be taken in at once', () => {
    expect(loadApiEnv({ AUTH_DISABLED: 'true', MAX_BODY_BYTES: '5000' }).INTAKE_MAX_INFLIGHT_BYTES).toBe(10_000);
    expect(loadApiEnv({ AUTH_DISABLED: 'true', INTAKE_MAX_INFLIGHT_BYTES: '123456' }).INTAKE_MAX_INFLIGHT_BYTES).toBe(123_456);
  });

  it('when OUTBOUND_ALLOWED_NETS and the schedule limits are unset, then no private net is allowed, 100 schedules, once a minute', () => {
    const env = loadApiEnv({ AUTH_DISABLED: 'true' });
    expect(env.OUTBOUND_ALLOWED_NETS).toEqual([]);
    expect(env.MAX_SCHEDULES_PER_TENANT).toBe(100);
    expect(env.SCHEDULE_MIN_INTERVAL_S).toBe(60);
    expect(
      loadApiEnv({ AUTH_DISABLED: 'true', OUTBOUND_ALLOWED_NETS: '10.0.0.0/8, ::1/128' }).OUTBOUND_ALLOWED_NETS.map((n) => n.text),
    ).toEqual(['10.0.0.0/8', '::1/128']);
  });

  it('when OUTBOUND_ALLOWED_NETS or a schedule limit is malformed, then the problem names the variable and the bad entry', () => {
    expect(problems({ AUTH_DISABLED: 'true', OUTBOUND_ALLOWED_NETS: '10.0.0.0/8,10.0.0.0/40' })).toEqual([
      'OUTBOUND_ALLOWED_NETS: "10.0.0.0/40" is not a network in CIDR form such as 10.0.0.0/8 or ::1/128 (comma-separated, e.g. 10.0.0.0/8,127.0.0.1/32)',
    ]);
    expect(problems({ AUTH_DISABLED: 'true', OUTBOUND_ALLOWED_NETS: 'intranet' })).toEqual([
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETS: "intranet"/),
    ]);
    expect(
      problems({ AUTH_DISABLED: 'true', MAX_SCHEDULES_PER_TENANT: '0', SCHEDULE_MIN_INTERVAL_S: '61' }).map((p) => p.split(':')[0]),
    ).toEqual(['MAX_SCHEDULES_PER_TENANT', 'SCHEDULE_MIN_INTERVAL_S']);
  });

  it('when the intake pace and stream caps are not set, then they default; a bad value names its variable', () => {
    const env = loadApiEnv({ AUTH_DISABLED: 'true' });
    expect([env.INTAKE_BODY_TIMEOUT_MS, env.INTAKE_BODY_MIN_BYTES_PER_S]).toEqual([10_000, 65_536]);
    expect([env.SSE_MAX_STREAMS_PER_TENANT, env.SSE_MAX_STREAMS]).toEqual([10, 1_000]);
    const found = problems({
      API_KEYS: 'a:t',
      INTAKE_BODY_TIMEOUT_MS: '-1',
      INTAKE_BODY_MIN_BYTES_PER_S: '0',
      SSE_MAX_STREAMS_PER_TENANT: 'many',
      SSE_MAX_STREAMS: '0',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'INTAKE_BODY_MIN_BYTES_PER_S',
      'INTAKE_BODY_TIMEOUT_MS',
      'SSE_MAX_STREAMS',
      'SSE_MAX_STREAMS_PER_TENANT',
    ]);
  });
});
