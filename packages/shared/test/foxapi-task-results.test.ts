import { describe, expect, it } from '@jest/globals';
import { interpretTask, type TaskSnapshot } from '../src/foxapi/index.js';

const A = 'https://media.example/a.wav';
const B = 'https://media.example/b.wav';
const C = 'https://media.example/c.wav';

function aSnapshot(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  const snapshot: TaskSnapshot = {
    taskId: 'task-unified-1-x',
    status: 'completed',
    progress: 100,
    results: [],
    error: null,
    usage: null,
    raw: {},
    ...overrides,
  };
  return snapshot;
}

function completed(results: unknown[] | null, raw: unknown = {}): TaskSnapshot {
  return aSnapshot({ results, raw });
}

const b5 = (fileUrl: string) => ({
  file_url: fileUrl,
  properties: { original_duration_in_milliseconds: 3834 },
  transcripts: [{ channel_id: 0, text: 'hi', sentences: [] }],
});

describe('result shapes of a completed task', () => {
  it('when entries are DashScope pass-through, then each input gets its transcription_url to download', () => {
    const outcome = interpretTask(
      completed([
        { file_url: A, transcription_url: 'https://oss.example/a.json', subtask_status: 'SUCCEEDED' },
        { file_url: B, transcription_url: 'https://oss.example/b.json', subtask_status: 'SUCCEEDED' },
      ]),
      [A, B],
    );

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://oss.example/a.json', fileUrl: A },
        { kind: 'download', url: 'https://oss.example/b.json', fileUrl: B },
      ],
    });
  });

  it('when entries are the common {url, file_url} shape, then url is downloaded', () => {
    const outcome = interpretTask(
      completed([
        { url: 'https://cdn.example/b.json', file_url: B },
        { url: 'https://cdn.example/a.json', file_url: A },
      ]),
      [A, B],
    );

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://cdn.example/a.json', fileUrl: A },
        { kind: 'download', url: 'https://cdn.example/b.json', fileUrl: B },
      ],
    });
  });

  it('when {url} entries carry no file_url and match the input count, then they are matched by position', () => {
    const outcome = interpretTask(completed([{ url: 'https://cdn.example/1.json' }, { url: 'https://cdn.example/2.json' }]), [A, B]);

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://cdn.example/1.json', fileUrl: A },
        { kind: 'download', url: 'https://cdn.example/2.json', fileUrl: B },
      ],
    });
  });

  it('when {url} entries carry no file_url and the counts differ, then no input is guessed and all are missing', () => {
    const outcome = interpretTask(completed([{ url: 'https://cdn.example/1.json' }]), [A, B]);

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'failed', code: 'upstream_missing_result', message: expect.any(String) },
        { kind: 'failed', code: 'upstream_missing_result', message: expect.any(String) },
      ],
    });
  });

  it('when entries are inline transcripts, then the entry itself is the transcription', () => {
    const entry = b5(A);

    const outcome = interpretTask(completed([entry]), [A]);

    expect(outcome).toEqual({ state: 'completed', files: [{ kind: 'inline', transcription: entry, fileUrl: A }] });
  });
});

describe('per-file failures', () => {
  it('when an entry has subtask_status FAILED, then that file fails with its code and message and the others succeed', () => {
    const outcome = interpretTask(
      completed([
        { file_url: A, transcription_url: 'https://oss.example/a.json', subtask_status: 'SUCCEEDED' },
        { file_url: B, code: 'InvalidFile.DownloadFailed', message: 'The audio file cannot be downloaded.', subtask_status: 'FAILED' },
      ]),
      [A, B],
    );

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://oss.example/a.json', fileUrl: A },
        { kind: 'failed', code: 'InvalidFile.DownloadFailed', message: 'The audio file cannot be downloaded.' },
      ],
    });
  });

  it('when an entry has a code but no transcription and no status, then it is a failure', () => {
    const outcome = interpretTask(completed([{ file_url: A, code: 'SomeError', message: 'nope' }]), [A]);

    expect(outcome).toEqual({ state: 'completed', files: [{ kind: 'failed', code: 'SomeError', message: 'nope' }] });
  });

  it('when a FAILED entry has no code, then the code is upstream_file_failed', () => {
    const outcome = interpretTask(completed([{ file_url: A, subtask_status: 'FAILED' }]), [A]);

    expect(outcome).toEqual({ state: 'completed', files: [{ kind: 'failed', code: 'upstream_file_failed', message: expect.any(String) }] });
  });

  it('when an input has no entry, then it fails with upstream_missing_result', () => {
    const outcome = interpretTask(completed([{ file_url: A, transcription_url: 'https://oss.example/a.json' }]), [A, B]);

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'download', fileUrl: A },
        { kind: 'failed', code: 'upstream_missing_result' },
      ],
    });
  });

  it('when an entry has an unknown shape, then that file fails with upstream_unparsable_result', () => {
    const outcome = interpretTask(
      completed([
        { file_url: A, something: 'else' },
        { file_url: B, transcription_url: 'https://oss.example/b.json' },
      ]),
      [A, B],
    );

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'failed', code: 'upstream_unparsable_result' },
        { kind: 'download', fileUrl: B },
      ],
    });
  });

  it('when entries are not even objects, then matched-by-position files fail as unparsable', () => {
    const outcome = interpretTask(completed(['https://cdn.example/a.json', null]), [A, B]);

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'failed', code: 'upstream_unparsable_result' },
        { kind: 'failed', code: 'upstream_unparsable_result' },
      ],
    });
  });
});

describe('duplicate URLs in one batch', () => {
  it('when a URL occurs twice, then its k-th entry belongs to its k-th occurrence', () => {
    const outcome = interpretTask(
      completed([
        { file_url: A, transcription_url: 'https://oss.example/a1.json' },
        { file_url: B, transcription_url: 'https://oss.example/b.json' },
        { file_url: A, transcription_url: 'https://oss.example/a2.json' },
      ]),
      [A, B, A],
    );

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://oss.example/a1.json', fileUrl: A },
        { kind: 'download', url: 'https://oss.example/b.json', fileUrl: B },
        { kind: 'download', url: 'https://oss.example/a2.json', fileUrl: A },
      ],
    });
  });

  it('when entries come back in another order, then they are still matched by URL and occurrence', () => {
    const outcome = interpretTask(
      completed([
        { file_url: C, transcription_url: 'https://oss.example/c.json' },
        { file_url: A, transcription_url: 'https://oss.example/a1.json' },
        { file_url: B, code: 'InvalidFile.DownloadFailed', message: 'x', subtask_status: 'FAILED' },
        { file_url: A, transcription_url: 'https://oss.example/a2.json' },
      ]),
      [A, B, A, C],
    );

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://oss.example/a1.json' },
        { kind: 'failed', code: 'InvalidFile.DownloadFailed' },
        { kind: 'download', url: 'https://oss.example/a2.json' },
        { kind: 'download', url: 'https://oss.example/c.json' },
      ],
    });
  });

  it('when a duplicated URL has fewer entries than occurrences, then the later occurrence is missing', () => {
    const outcome = interpretTask(completed([{ file_url: A, transcription_url: 'https://oss.example/a1.json' }]), [A, A]);

    expect(outcome).toMatchObject({
      state: 'completed',
      files: [
        { kind: 'download', url: 'https://oss.example/a1.json' },
        { kind: 'failed', code: 'upstream_missing_result' },
      ],
    });
  });

  it('when upstream re-encodes a URL, then it still matches its input', () => {
    const input = 'https://Media.Example/my file.wav';
    const outcome = interpretTask(
      completed([{ file_url: 'https://media.example/my%20file.wav', transcription_url: 'https://oss.example/x.json' }]),
      [input],
    );

    expect(outcome).toEqual({ state: 'completed', files: [{ kind: 'download', url: 'https://oss.example/x.json', fileUrl: input }] });
  });
});

describe('where the results sit', () => {
  it('when results are only under the raw answer output.results, then they are used', () => {
    const raw = {
      status: 'completed',
      output: {
        task_status: 'SUCCEEDED',
        results: [{ file_url: A, transcription_url: 'https://oss.example/a.json', subtask_status: 'SUCCEEDED' }],
      },
    };

    const outcome = interpretTask(completed(null, raw), [A]);

    expect(outcome).toEqual({ state: 'completed', files: [{ kind: 'download', url: 'https://oss.example/a.json', fileUrl: A }] });
  });

  it('when results are at the top level of the raw answer, then they win over output.results', () => {
    const raw = {
      results: [{ file_url: A, transcription_url: 'https://oss.example/top.json' }],
      output: { results: [{ file_url: A, transcription_url: 'https://oss.example/nested.json' }] },
    };

    const outcome = interpretTask(completed(null, raw), [A]);

    expect(outcome).toMatchObject({ files: [{ url: 'https://oss.example/top.json' }] });
  });

  it('when a completed task has no results anywhere, then every file fails with upstream_missing_result', () => {
    const outcome = interpretTask(completed(null, { status: 'completed' }), [A, B]);

    expect(outcome).toEqual({
      state: 'completed',
      files: [
        { kind: 'failed', code: 'upstream_missing_result', message: expect.any(String) },
        { kind: 'failed', code: 'upstream_missing_result', message: expect.any(String) },
      ],
    });
  });
});

describe('task status', () => {
  it('when the task failed with an error code, then the outcome carries that code', () => {
    const outcome = interpretTask(aSnapshot({ status: 'failed', results: null, error: { code: 'generation_failed', message: 'boom' } }), [
      A,
    ]);

    expect(outcome).toEqual({ state: 'failed', code: 'generation_failed', message: 'boom' });
  });

  it('when the task failed without an error, then the code is upstream_task_failed', () => {
    const outcome = interpretTask(aSnapshot({ status: 'failed', results: null, error: null }), [A]);

    expect(outcome).toEqual({ state: 'failed', code: 'upstream_task_failed', message: expect.any(String) });
  });

  it('when the task was cancelled, then the outcome is cancelled', () => {
    expect(interpretTask(aSnapshot({ status: 'cancelled', results: null }), [A])).toEqual({ state: 'cancelled' });
  });

  it.each(['pending', 'processing', 'queued', 'UNKNOWN', ''])(
    'when the status is %p, then the task is still running with its progress',
    (status) => {
      expect(interpretTask(aSnapshot({ status, progress: 40, results: null }), [A])).toEqual({ state: 'running', progress: 40 });
    },
  );

  it('when the snapshot is nonsense, then it does not throw', () => {
    const weird = { taskId: 'x', status: 42, progress: 'a', results: 'b', error: 'c', raw: null } as unknown as TaskSnapshot;

    expect(interpretTask(weird, [A])).toEqual({ state: 'running', progress: null });
    expect(interpretTask({ ...weird, status: 'completed' }, [A])).toMatchObject({
      state: 'completed',
      files: [{ code: 'upstream_missing_result' }],
    });
  });
});
