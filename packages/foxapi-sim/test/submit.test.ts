import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { API_KEY, audio, json, startSim, START_MS, type RunningSim } from './sim-fixture.js';

interface ErrorBody {
  error: { message: string; type: string; code?: string };
}

describe('POST /v1/audios/generations', () => {
  let s: RunningSim;
  beforeEach(async () => {
    s = await startSim({ taskDurationMs: 45_000 });
  });
  afterEach(() => s.close());

  it('when the request carries no API key, then it answers 401 authentication_error and creates nothing', async () => {
    const res = await fetch(`${s.url}/v1/audios/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_urls: [audio('a.wav')] }),
    });

    expect(res.status).toBe(401);
    expect((await json<ErrorBody>(res)).error.type).toBe('authentication_error');
    expect(s.sim.stats().submissions).toBe(0);
  });

  it('when the key is not one of apiKeys, then every /v1 route answers 401', async () => {
    const headers = { authorization: 'Bearer sk-wrong' };
    const submit = await fetch(`${s.url}/v1/audios/generations`, { method: 'POST', headers });
    const poll = await fetch(`${s.url}/v1/tasks/task-unified-1-abcdefgh`, { headers });

    expect([submit.status, poll.status]).toEqual([401, 401]);
    expect(await json<ErrorBody>(poll)).toEqual({
      error: { message: expect.any(String), type: 'authentication_error' },
    });
  });

  it('when the body is valid, then it answers a pending audio task with an estimate and reserved credits', async () => {
    const res = await s.submit([audio('a.wav'), audio('b.wav')]);

    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      created: Math.floor(START_MS / 1000),
      id: expect.stringMatching(new RegExp(`^task-unified-${Math.floor(START_MS / 1000)}-[a-z0-9]{8}$`)),
      model: 'paraformer-v2',
      object: 'audio.generation.task',
      progress: 0,
      status: 'pending',
      task_info: { can_cancel: true, estimated_time: 45 },
      type: 'audio',
      usage: { credits_reserved: 2, user_group: 'default' },
    });
    expect(s.sim.stats().submissions).toBe(1);
  });

  it('when the model is omitted, then paraformer-v2 is used', async () => {
    const res = await s.api('/v1/audios/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_urls: [audio('a.wav')] }),
    });

    expect((await json(res)).model).toBe('paraformer-v2');
  });

  it('when the content type is not JSON, then it answers 400 invalid_request_error', async () => {
    const res = await s.api('/v1/audios/generations', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ file_urls: [audio('a.wav')] }),
    });

    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.type).toBe('invalid_request_error');
  });

  it('when the JSON does not parse, then it answers 400 invalid_request_error', async () => {
    const res = await s.api('/v1/audios/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"file_urls": [',
    });

    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.type).toBe('invalid_request_error');
    expect(s.sim.stats().submissions).toBe(0);
  });

  it.each([
    ['an unknown model', { model: 'whisper-1' }, 'model'],
    ['no file_urls', { file_urls: undefined }, 'file_urls'],
    ['an empty file_urls', { file_urls: [] }, 'file_urls'],
    ['101 file_urls', { file_urls: Array.from({ length: 101 }, (_, i) => audio(`${i}.wav`)) }, 'file_urls'],
    ['a non-http file URL', { file_urls: ['ftp://media.example.com/a.wav'] }, 'file_urls.0'],
    ['a file URL that is not a URL', { file_urls: ['a.wav'] }, 'file_urls.0'],
    ['an unknown language code', { language_hints: ['xx'] }, 'language_hints.0'],
    ['language_hints with paraformer-8k-v2', { model: 'paraformer-8k-v2', language_hints: ['zh'] }, 'language_hints'],
    ['a fractional channel_id', { channel_id: [0.5] }, 'channel_id.0'],
    ['a recognition that is not an object', { recognition: 'on' }, 'recognition'],
  ])('when the body has %s, then it answers 422 naming the field', async (_case, override, field) => {
    const res = await s.submit([audio('a.wav')], override);

    expect(res.status).toBe(422);
    const body = await json<ErrorBody>(res);
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message.startsWith(`${field}:`)).toBe(true);
    expect(s.sim.stats().submissions).toBe(0);
  });

  it('when optional fields are valid, then the submit is accepted and extra channels are billed', async () => {
    const res = await s.submit([audio('a.wav'), audio('b.wav')], {
      language_hints: ['zh', 'en'],
      channel_id: [0, 1],
      recognition: { disfluency_removal_enabled: true },
      diarization: { enabled: true, speaker_count: 2 },
    });

    expect(res.status).toBe(200);
    expect((await json(res)).usage).toEqual({ credits_reserved: 4, user_group: 'default' });
  });

  it('when paraformer-8k-v2 is used without language_hints, then it is accepted', async () => {
    const res = await s.submit([audio('call.wav')], { model: 'paraformer-8k-v2', language_hints: null });

    expect(res.status).toBe(200);
    expect((await json(res)).model).toBe('paraformer-8k-v2');
  });

  it('when several keys are configured, then each of them is accepted', async () => {
    s.sim.configure({ apiKeys: ['sk-one', 'sk-two'] });
    const withTwo = await s.api('/v1/tasks/task-unified-1-abcdefgh', { headers: { authorization: 'Bearer sk-two' } });
    const withDefault = await s.api('/v1/tasks/task-unified-1-abcdefgh', {
      headers: { authorization: `Bearer ${API_KEY}` },
    });

    expect(withTwo.status).toBe(404);
    expect(withDefault.status).toBe(401);
  });
});
