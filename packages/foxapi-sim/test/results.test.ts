import { afterEach, describe, expect, it } from '@jest/globals';
import { transcriptionFor, type SimOptions, type TranscriptionJson } from '../src/index.js';
import { API_KEY, audio, json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

const FAILED_ENTRY = {
  code: 'InvalidFile.DownloadFailed',
  message: 'The audio file cannot be downloaded.',
  subtask_status: 'FAILED',
};

describe('completed task results', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  async function completedResults(fileUrls: string[], options: SimOptions = {}): Promise<Array<Record<string, unknown>>> {
    s = await startSim({ taskDurationMs: 1_000, ...options });
    const id = await s.submitTask(fileUrls);
    s.clock.advance(1_000);
    const body = await json<PolledTask>(await s.poll(id));
    expect(body.status).toBe('completed');
    return body.results ?? [];
  }

  it('when the shape is dashscope, then each file has a signed transcription_url under the listening address', async () => {
    const results = await completedResults([audio('a.wav')]);

    expect(results).toEqual([
      {
        file_url: audio('a.wav'),
        transcription_url: expect.stringMatching(
          new RegExp(`^${s.url}/transcriptions/task-unified-\\d+-[a-z0-9]{8}/0\\.json\\?Expires=\\d+&Signature=[0-9a-f]{64}$`),
        ),
        subtask_status: 'SUCCEEDED',
      },
    ]);
  });

  it('when the shape is url, then each file has {url, file_url} and url serves the transcription', async () => {
    const results = await completedResults([audio('a.wav')], { resultShape: 'url' });

    expect(results).toEqual([{ url: expect.stringContaining('/transcriptions/'), file_url: audio('a.wav') }]);
    const download = await fetch(String(results[0]?.url));
    expect(download.status).toBe(200);
    expect(await download.json()).toEqual(transcriptionFor(audio('a.wav')));
  });

  it('when the shape is inline, then each entry carries the transcripts and properties without a link', async () => {
    const results = await completedResults([audio('a.wav')], { resultShape: 'inline' });
    const { transcripts, properties } = transcriptionFor(audio('a.wav'));

    expect(results).toEqual([{ file_url: audio('a.wav'), transcripts, properties }]);
  });

  it.each<SimOptions['resultShape']>(['dashscope', 'url', 'inline'])(
    'when the shape is %s and a URL contains sim-fail, then that file gets the DashScope failure entry',
    async (resultShape) => {
      const results = await completedResults([audio('sim-fail.wav'), audio('ok.wav')], { resultShape });

      expect(results).toHaveLength(2);
      expect(results[0]).toEqual({ file_url: audio('sim-fail.wav'), ...FAILED_ENTRY });
      expect(results[1]).toMatchObject({ file_url: audio('ok.wav') });
      expect(results[1]).not.toHaveProperty('code');
    },
  );

  it('when URLs contain sim-garbage and sim-missing, then one entry has an unknown shape and the other is absent', async () => {
    const results = await completedResults([audio('sim-garbage.wav'), audio('sim-missing.wav'), audio('ok.wav')]);

    expect(results).toEqual([
      { file_url: audio('sim-garbage.wav'), blob: 42 },
      expect.objectContaining({ file_url: audio('ok.wav'), subtask_status: 'SUCCEEDED' }),
    ]);
  });

  it('when a batch holds the same URL twice, then it gets two entries in input order with distinct links', async () => {
    const results = await completedResults([audio('a.wav'), audio('b.wav'), audio('a.wav')]);

    expect(results.map((entry) => entry.file_url)).toEqual([audio('a.wav'), audio('b.wav'), audio('a.wav')]);
    expect(results[0]?.transcription_url).not.toEqual(results[2]?.transcription_url);
  });

  it('when failRate is 1, then every file fails while the task still completes', async () => {
    const results = await completedResults([audio('a.wav'), audio('b.wav')], { failRate: 1 });

    expect(results).toEqual([
      { file_url: audio('a.wav'), ...FAILED_ENTRY },
      { file_url: audio('b.wav'), ...FAILED_ENTRY },
    ]);
  });

  it('when failRate is partial, then the same seed fails the same files', async () => {
    const urls = Array.from({ length: 40 }, (_, i) => audio(`${i}.wav`));
    const failedOf = (results: Array<Record<string, unknown>>) =>
      results.filter((entry) => entry.subtask_status === 'FAILED').map((entry) => entry.file_url);

    const first = failedOf(await completedResults(urls, { failRate: 0.3, seed: 7 }));
    await s.close();
    const second = failedOf(await completedResults(urls, { failRate: 0.3, seed: 7 }));

    expect(second).toEqual(first);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(40);
  });

  it('when publicBaseUrl is set, then links use it', async () => {
    const results = await completedResults([audio('a.wav')], { publicBaseUrl: 'https://results.example.net/fox/' });

    expect(String(results[0]?.transcription_url)).toMatch(/^https:\/\/results\.example\.net\/fox\/transcriptions\//);
  });
});

describe('GET /transcriptions/:taskId/:n.json', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  async function linkFor(fileUrl: string): Promise<string> {
    s = await startSim({ taskDurationMs: 1_000 });
    const id = await s.submitTask([fileUrl]);
    s.clock.advance(1_000);
    const body = await json<PolledTask>(await s.poll(id));
    return String(body.results?.[0]?.transcription_url);
  }

  it('when the signed link is fetched without a key, then it serves the transcription JSON and counts a clean download', async () => {
    const link = await linkFor(audio('team/standup%20monday.wav'));

    const res = await fetch(link);

    expect(res.status).toBe(200);
    const body = await json<TranscriptionJson>(res);
    expect(body.file_url).toBe(audio('team/standup%20monday.wav'));
    expect(body.properties).toMatchObject({ audio_format: 'pcm_s16le', channels: [0], original_sampling_rate: 16000 });
    const [transcript] = body.transcripts;
    expect(transcript?.channel_id).toBe(0);
    expect(transcript?.sentences[0]?.text).toBe('This is the recording at standup monday.wav.');
    expect(s.sim.stats()).toMatchObject({ downloads: 1, downloadsWithAuth: 0 });
  });

  it('when the download carries an Authorization header, then it is served but counted in downloadsWithAuth', async () => {
    const link = await linkFor(audio('a.wav'));

    const res = await fetch(link, { headers: { authorization: `Bearer ${API_KEY}` } });

    expect(res.status).toBe(200);
    expect(s.sim.stats()).toMatchObject({ downloads: 1, downloadsWithAuth: 1 });
  });

  it('when the signature is tampered with, then it answers 403 and counts no download', async () => {
    const link = await linkFor(audio('a.wav'));

    const res = await fetch(link.replace(/Signature=[0-9a-f]/, 'Signature=x'));

    expect(res.status).toBe(403);
    expect(s.sim.stats().downloads).toBe(0);
  });

  it('when the link is older than 24 h, then it answers 403 expired', async () => {
    const link = await linkFor(audio('a.wav'));
    s.clock.advance(24 * 3_600_000);

    const res = await fetch(link);

    expect(res.status).toBe(403);
    expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/expired/);
  });

  it('when the task or entry does not exist, then it answers 404', async () => {
    const link = await linkFor(audio('a.wav'));

    const wrongEntry = await fetch(link.replace('/0.json', '/5.json'));
    const wrongTask = await fetch(`${s.url}/transcriptions/task-unified-1-abcdefgh/0.json`);

    expect([wrongEntry.status, wrongTask.status]).toEqual([404, 404]);
  });
});

describe('transcript length over HTTP', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  async function downloads(fileUrls: string[], options: SimOptions = {}): Promise<Response[]> {
    s = await startSim({ taskDurationMs: 0, ...options });
    const id = await s.submitTask(fileUrls);
    const body = await json<PolledTask>(await s.poll(id));
    return Promise.all((body.results ?? []).map((entry) => fetch(String(entry.transcription_url))));
  }

  it('when transcriptMinutes is set and one URL has a marker, then each download has its length and exact Content-Length', async () => {
    const [plain, marked] = await downloads([audio('a.wav'), audio('sim-minutes=30/b.wav')], { transcriptMinutes: 2 });
    const plainBytes = Buffer.from(await plain!.arrayBuffer());
    const markedBytes = Buffer.from(await marked!.arrayBuffer());

    expect(plain?.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Number(plain?.headers.get('content-length'))).toBe(plainBytes.length);
    expect(Number(marked?.headers.get('content-length'))).toBe(markedBytes.length);
    const plainDoc = JSON.parse(plainBytes.toString()) as TranscriptionJson;
    const markedDoc = JSON.parse(markedBytes.toString()) as TranscriptionJson;
    expect(plainDoc.properties.original_duration_in_milliseconds).toBe(120_000);
    expect(markedDoc.properties.original_duration_in_milliseconds).toBe(1_800_000);
    expect(markedDoc).toEqual(transcriptionFor(audio('sim-minutes=30/b.wav')));
  });

  it('when transcriptMinutes changes after a submit, then that task keeps the length in force at submit', async () => {
    s = await startSim({ taskDurationMs: 0, transcriptMinutes: 3 });
    const id = await s.submitTask([audio('a.wav')]);
    s.sim.configure({ transcriptMinutes: undefined });
    const body = await json<PolledTask>(await s.poll(id));

    const doc = await json<TranscriptionJson>(await fetch(String(body.results?.[0]?.transcription_url)));

    expect(doc.properties.original_duration_in_milliseconds).toBe(180_000);
    expect((await json(await fetch(`${s.url}/__sim/config`))).transcriptMinutes).toBeUndefined();
  });

  it('when the shape is inline, then the entry carries the long transcript', async () => {
    s = await startSim({ taskDurationMs: 0, resultShape: 'inline', transcriptMinutes: 1 });
    const id = await s.submitTask([audio('a.wav')]);

    const body = await json<PolledTask>(await s.poll(id));

    expect(body.results?.[0]).toEqual({ file_url: audio('a.wav'), ...pick(transcriptionFor(audio('a.wav'), 1)) });
  });

  it('when transcriptMinutes is not a valid length, then configure rejects it', async () => {
    s = await startSim();

    const res = await fetch(`${s.url}/__sim/config`, { method: 'POST', body: JSON.stringify({ transcriptMinutes: 0 }) });

    expect(res.status).toBe(400);
    expect(() => s.sim.configure({ transcriptMinutes: 800 })).toThrow(/transcriptMinutes/);
  });
});

function pick({ transcripts, properties }: TranscriptionJson): Pick<TranscriptionJson, 'transcripts' | 'properties'> {
  return { transcripts, properties };
}
