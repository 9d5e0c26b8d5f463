import { describe, expect, it } from '@jest/globals';
import { EXIT, exitCodeForEndedJob, exitCodeForResults, exitCodeForStatus } from '../src/exit-codes.js';

const job = (status: string, completed: number, total = 3) => ({ status, counts: { total, completed } });

describe('exit codes', () => {
  it('when a job completed with every file transcribed, then 0', () => {
    expect(exitCodeForEndedJob(job('completed', 3))).toBe(EXIT.ok);
    expect(exitCodeForStatus(job('completed', 3))).toBe(EXIT.ok);
  });

  it.each(['completed_with_errors', 'failed', 'cancelled'])('when a job ended %s, then 2', (status) => {
    expect(exitCodeForEndedJob(job(status, 1))).toBe(EXIT.incomplete);
    expect(exitCodeForStatus(job(status, 1))).toBe(EXIT.incomplete);
  });

  it('when a job was cancelled after every file was transcribed, then 2 all the same (it did not complete)', () => {
    expect(exitCodeForEndedJob(job('cancelled', 3))).toBe(EXIT.incomplete);
  });

  it.each(['queued', 'running', 'cancelling'])('when status finds a job %s, then 0: the request succeeded', (status) => {
    expect(exitCodeForStatus(job(status, 0))).toBe(EXIT.ok);
  });

  it('when results wrote a transcript for every input, then 0; for fewer, 2', () => {
    expect(exitCodeForResults(3, 3)).toBe(EXIT.ok);
    expect(exitCodeForResults(3, 2)).toBe(EXIT.incomplete);
    expect(exitCodeForResults(3, 0)).toBe(EXIT.incomplete);
  });
});
