import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@batchscribe/shared';
import { durabilitySettings, loadWorkerEnv } from '../src/env.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('worker configuration', () => {
  it('when LOG_FORMAT is set, then it is read from the schema, and an unknown format names the variable', () => {
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'k', LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(problems({ FOXAPI_API_KEY: 'k', LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT: must be one of json, pretty']);
  });

  it('when the test-only failpoint variable is set, then the production schema does not know it', () => {
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'k', BATCHSCRIBE_CRASH_AT: 'before-claim' })).not.toHaveProperty('BATCHSCRIBE_CRASH_AT');
  });

  it('when only the API key is given, then every default of README, "Configuration", applies', () => {
    const env = loadWorkerEnv({ FOXAPI_API_KEY: 'sk-x' });
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'bs',
      FOXAPI_BASE_URL: 'https://api.foxapi.cc',
      FOXAPI_MAX_RPS: 10,
      FOXAPI_MAX_INFLIGHT_TASKS: 50,
      FOXAPI_TIMEOUT_MS: 30_000,
      SUBMIT_RETRY_AMBIGUOUS: false,
      POLL_MIN_MS: 2_000,
      POLL_MAX_MS: 60_000,
      TASK_TIMEOUT_MS: 50_400_000,
      WORKER_CONCURRENCY: 50,
      JOB_RETENTION_S: 604_800,
    });
  });

  it('when FOXAPI_API_KEY is missing, then the problem names it', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^FOXAPI_API_KEY: /)]);
  });

  it('when values are malformed, then each problem names its variable', () => {
    const found = problems({
      FOXAPI_API_KEY: 'k',
      FOXAPI_MAX_RPS: 'fast',
      REDIS_URL: 'http://x',
      SUBMIT_RETRY_AMBIGUOUS: 'yes',
      WORKER_CONCURRENCY: '0',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'FOXAPI_MAX_RPS',
      'REDIS_URL',
      'SUBMIT_RETRY_AMBIGUOUS',
      'WORKER_CONCURRENCY',
    ]);
  });

  it('when POLL_MIN_MS exceeds POLL_MAX_MS, then the cross-field rule names POLL_MIN_MS', () => {
    expect(problems({ FOXAPI_API_KEY: 'k', POLL_MIN_MS: '5000', POLL_MAX_MS: '1000' })).toEqual([
      expect.stringMatching(/^POLL_MIN_MS: must not exceed/),
    ]);
  });

  it('when OUTBOUND_ALLOWED_NETS is set, then it is parsed, and a bad entry stops the worker naming the variable', () => {
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'sk-x' }).OUTBOUND_ALLOWED_NETS).toEqual([]);
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'sk-x', OUTBOUND_ALLOWED_NETS: '127.0.0.1/32' }).OUTBOUND_ALLOWED_NETS).toHaveLength(1);
    expect(problems({ FOXAPI_API_KEY: 'sk-x', OUTBOUND_ALLOWED_NETS: '300.0.0.0/8' })).toEqual([
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETS: "300.0.0.0\/8" is not a network/),
    ]);
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'sk-x' }).INTAKE_RATE_LIMIT_PER_MIN).toBe(120);
  });

  it('when REDIS_DURABILITY is unset or chosen, then the replica count defaults by mode and an explicit one wins', () => {
    const settings = (extra: Record<string, string>) => durabilitySettings(loadWorkerEnv({ FOXAPI_API_KEY: 'k', ...extra }));
    expect(settings({})).toEqual({ mode: 'none', replicas: 0, timeoutMs: 1_000 });
    expect(settings({ REDIS_DURABILITY: 'wait' })).toEqual({ mode: 'wait', replicas: 1, timeoutMs: 1_000 });
    expect(settings({ REDIS_DURABILITY: 'waitaof' })).toEqual({ mode: 'waitaof', replicas: 0, timeoutMs: 1_000 });
    expect(settings({ REDIS_DURABILITY: 'wait', REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '250' })).toEqual({
      mode: 'wait',
      replicas: 2,
      timeoutMs: 250,
    });
  });

  it('when TENANT_BUDGETS is set, then it maps tenants to monthly hours; unset, no tenant has a budget', () => {
    expect([...loadWorkerEnv({ FOXAPI_API_KEY: 'k', TENANT_BUDGETS: 'acme:100, globex:2.5,initech:0' }).TENANT_BUDGETS]).toEqual([
      ['acme', 100],
      ['globex', 2.5],
      ['initech', 0],
    ]);
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'k' }).TENANT_BUDGETS.size).toBe(0);
    expect(loadWorkerEnv({ FOXAPI_API_KEY: 'k' }).BUDGET_RECHECK_MS).toBe(60_000);
  });

  it.each([
    ['hours that are not a number', 'acme:lots', /tenant:hours pairs.*"acme:lots"/],
    ['negative hours', 'acme:-5', /tenant:hours pairs.*"acme:-5"/],
    ['a pair without a tenant', ':10', /tenant:hours pairs/],
    ['a tenant name API_KEYS could not hold', 'ac me:10', /tenant:hours pairs/],
    ['a tenant twice', 'acme:1,acme:2', /tenant acme appears twice/],
  ])('when TENANT_BUDGETS has %s, then the worker stops naming the variable', (_what, value, message) => {
    expect(problems({ FOXAPI_API_KEY: 'k', TENANT_BUDGETS: value })).toEqual([expect.stringMatching(/^TENANT_BUDGETS: /)]);
    expect(problems({ FOXAPI_API_KEY: 'k', TENANT_BUDGETS: value })[0]).toMatch(message);
  });

  it('when the durability settings are malformed, then each problem names its variable', () => {
    const found = problems({ FOXAPI_API_KEY: 'k', REDIS_DURABILITY: 'fsync', REDIS_WAIT_REPLICAS: '-1', REDIS_WAIT_TIMEOUT_MS: '0' });
    expect(found.sort()).toEqual([
      'REDIS_DURABILITY: must be one of none, wait, waitaof',
      'REDIS_WAIT_REPLICAS: must be at least 0',
      'REDIS_WAIT_TIMEOUT_MS: must be at least 1',
    ]);
  });
});
