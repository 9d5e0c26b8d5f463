import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { toolAvailable } from '../support/required-tool.js';

const missing = { path: '/nonexistent/batchscribe-test-tool', skips: 'the tool checks', install: 'apt-get install -y tool' };

afterEach(() => {
  jest.restoreAllMocks();
});

describe('a test tool the suite needs (promtool, Chromium)', () => {
  it('when it is installed, then it is available under CI=true too', () => {
    expect(toolAvailable({ ...missing, path: process.execPath }, { CI: 'true' })).toBe(true);
  });

  it('when it is missing on a developer machine, then its checks are skipped with a warning naming how to install it', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(toolAvailable(missing, {})).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('apt-get install -y tool'));
  });

  it('when it is missing under CI=true, then the run fails instead of skipping', () => {
    expect(() => toolAvailable(missing, { CI: 'true' })).toThrow(/batchscribe-test-tool not found: the tool checks.*CI=true/);
  });
});
