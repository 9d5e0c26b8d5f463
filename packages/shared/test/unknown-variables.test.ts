import { describe, expect, it } from '@jest/globals';
import { findUnknownVariables } from '../src/config/unknown-variables.js';

const KNOWN = ['FOXAPI_MAX_RPS', 'FOXAPI_API_KEY', 'WORKER_CONCURRENCY', 'REDIS_URL', 'POLL_MIN_MS', 'POLL_MAX_MS'];

describe('findUnknownVariables', () => {
  it('when variables with our prefixes are misspelled, then each is named with the nearest known name', () => {
    expect(findUnknownVariables({ FOXAPI_MAX_RSP: '5', WORKER_CONCURENCY: '4', foxapi_max_rps: '3' }, KNOWN)).toEqual([
      { name: 'FOXAPI_MAX_RSP', suggestion: 'FOXAPI_MAX_RPS' },
      { name: 'WORKER_CONCURENCY', suggestion: 'WORKER_CONCURRENCY' },
      { name: 'foxapi_max_rps', suggestion: 'FOXAPI_MAX_RPS' },
    ]);
  });

  it('when an unknown name is far from every known one, then it is reported without a guess', () => {
    expect(findUnknownVariables({ FOXAPI_SOMETHING_NEW: '1' }, KNOWN)).toEqual([{ name: 'FOXAPI_SOMETHING_NEW', suggestion: null }]);
  });

  it('when variables are known, lack our prefixes, or are Kubernetes service links, then nothing is reported', () => {
    const env = {
      FOXAPI_MAX_RPS: '5',
      PATH: '/usr/bin',
      HOME: '/root',
      SIM_PORT: '4010',
      REDIS_PORT: 'tcp://10.0.0.7:6379',
      REDIS_SERVICE_HOST: '10.0.0.7',
      REDIS_SERVICE_PORT: '6379',
      REDIS_PORT_6379_TCP_ADDR: '10.0.0.7',
    };
    expect(findUnknownVariables(env, KNOWN)).toEqual([]);
  });
});
