import { describe, expect, it } from '@jest/globals';
import { parseSimEnv, SimEnvError, unknownSimVariables } from '../src/index.js';

function rejectionOf(env: Record<string, string>): SimEnvError {
  try {
    parseSimEnv(env);
  } catch (err) {
    if (err instanceof SimEnvError) return err;
    throw err;
  }
  throw new Error('expected parseSimEnv to reject');
}

describe('parseSimEnv', () => {
  it('when nothing is set, then it listens on 127.0.0.1:4010 with default options', () => {
    expect(parseSimEnv({})).toEqual({ port: 4010, host: '127.0.0.1', options: {} });
  });

  it('when every variable is set, then each becomes its option', () => {
    const env = parseSimEnv({
      SIM_PORT: '4999',
      SIM_HOST: '0.0.0.0',
      SIM_API_KEYS: 'sk-a, sk-b,',
      SIM_RESULT_SHAPE: 'inline',
      SIM_TASK_DURATION_MS: '1000-5000',
      SIM_FAIL_RATE: '0.25',
      SIM_MAX_RPS: '20',
      SIM_LATENCY_MS: '15',
      SIM_SEED: '9',
      SIM_PUBLIC_BASE_URL: 'https://sim.example.com',
      SIM_TRANSCRIPT_MINUTES: '60',
      SIM_UPLOAD_CAPACITY_BYTES: '1048576',
      SIM_FETCH_MEDIA: 'true',
      SIM_FETCH_MEDIA_TIMEOUT_MS: '2000',
    });

    expect(env).toEqual({
      port: 4999,
      host: '0.0.0.0',
      options: {
        apiKeys: ['sk-a', 'sk-b'],
        resultShape: 'inline',
        taskDurationMs: { min: 1000, max: 5000 },
        failRate: 0.25,
        maxRps: 20,
        latencyMs: 15,
        seed: 9,
        publicBaseUrl: 'https://sim.example.com',
        transcriptMinutes: 60,
        uploadCapacityBytes: 1048576,
        fetchMedia: true,
        fetchMediaTimeoutMs: 2000,
      },
    });
  });

  it('when SIM_FETCH_MEDIA is false, then fetchMedia is off', () => {
    expect(parseSimEnv({ SIM_FETCH_MEDIA: 'false' }).options.fetchMedia).toBe(false);
  });

  it('when the duration is a single number, then it is a fixed duration', () => {
    expect(parseSimEnv({ SIM_TASK_DURATION_MS: '3000' }).options.taskDurationMs).toBe(3000);
  });

  it('when a variable is empty, then it counts as unset', () => {
    expect(parseSimEnv({ SIM_MAX_RPS: '', SIM_PORT: '' })).toEqual({ port: 4010, host: '127.0.0.1', options: {} });
  });

  it.each([
    ['SIM_FAIL_RATE', '1.5'],
    ['SIM_FAIL_RATE', 'often'],
    ['SIM_TASK_DURATION_MS', '5000-1000'],
    ['SIM_TASK_DURATION_MS', '3s'],
    ['SIM_RESULT_SHAPE', 'xml'],
    ['SIM_MAX_RPS', '0'],
    ['SIM_LATENCY_MS', '-1'],
    ['SIM_PORT', '70000'],
    ['SIM_API_KEYS', ' , '],
    ['SIM_PUBLIC_BASE_URL', 'ftp://x'],
    ['SIM_TRANSCRIPT_MINUTES', '0'],
    ['SIM_TRANSCRIPT_MINUTES', '721'],
    ['SIM_TRANSCRIPT_MINUTES', 'an hour'],
    ['SIM_UPLOAD_CAPACITY_BYTES', '1.5'],
    ['SIM_UPLOAD_CAPACITY_BYTES', '-1'],
    ['SIM_FETCH_MEDIA', 'yes'],
    ['SIM_FETCH_MEDIA_TIMEOUT_MS', '0'],
  ])('when %s is %p, then it rejects naming the variable', (variable, value) => {
    const error = rejectionOf({ [variable]: value });

    expect(error.variables).toEqual([variable]);
    expect(error.message.startsWith(`${variable}:`)).toBe(true);
  });
});

describe('unknownSimVariables', () => {
  it('when a SIM_ variable is misspelled, then it is named with the variable meant; known and other variables are not', () => {
    expect(
      unknownSimVariables({ SIM_FAILRATE: '0.5', SIM_PORT: '4010', SIM_WHATEVER_ELSE_ENTIRELY: '1', PORT: '3000', FOXAPI_MAX_RSP: '3' }),
    ).toEqual([
      { name: 'SIM_FAILRATE', suggestion: 'SIM_FAIL_RATE' },
      { name: 'SIM_WHATEVER_ELSE_ENTIRELY', suggestion: null },
    ]);
  });
});
