import { describe, expect, it } from '@jest/globals';
import { normalizeTranscription } from '@batchscribe/shared';
import { transcriptionFor, type TranscriptionJson } from '../src/index.js';
import { transcriptionBody, transcriptionTimes } from '../src/transcripts.js';

describe('transcriptionFor', () => {
  const url = 'https://media.example.com/calls/2026-01-15/support-call.mp3';

  it('when called twice for one URL, then the transcription is identical; for another URL it differs', () => {
    expect(transcriptionFor(url)).toEqual(transcriptionFor(url));
    expect(transcriptionFor(`${url}?v=2`)).not.toEqual(transcriptionFor(url));
  });

  it('when words are concatenated as text + punctuation, then they rebuild each sentence and the paragraph', () => {
    const [transcript] = transcriptionFor(url).transcripts;
    if (transcript === undefined) throw new Error('expected one transcript');

    expect(transcript.sentences.length).toBeGreaterThanOrEqual(2);
    expect(transcript.sentences.length).toBeLessThanOrEqual(4);
    expect(transcript.sentences[0]?.text).toBe('This is the recording at support-call.mp3.');
    for (const sentence of transcript.sentences) {
      expect(sentence.words.map((w) => w.text + w.punctuation).join('')).toBe(sentence.text);
    }
    expect(transcript.sentences.map((s) => s.text).join(' ')).toBe(transcript.text);
  });

  it('when timings are read, then they are increasing milliseconds inside the file duration', () => {
    const { transcripts, properties } = transcriptionFor(url);
    const sentences = transcripts[0]?.sentences ?? [];

    let previousEnd = 0;
    sentences.forEach((sentence, index) => {
      expect(sentence.sentence_id).toBe(index + 1);
      expect(sentence.begin_time).toBeGreaterThanOrEqual(previousEnd);
      expect(sentence.words[0]?.begin_time).toBe(sentence.begin_time);
      expect(sentence.words.at(-1)?.end_time).toBe(sentence.end_time);
      previousEnd = sentence.end_time;
    });
    expect(properties.original_duration_in_milliseconds).toBeGreaterThan(previousEnd);
    expect(transcripts[0]?.content_duration_in_milliseconds).toBeLessThan(properties.original_duration_in_milliseconds);
  });
});

describe('meeting-size transcriptions', () => {
  const url = 'https://media.example.com/calls/2026-01-15/support-call.mp3';
  const hour = 'https://media.example.com/meetings/sim-minutes=60/all-hands.wav';

  it('when a URL asks for 60 minutes, then the document is 0.6–1.0 MB, ~9,000 timed words, and normalizes', () => {
    const bytes = Buffer.concat(transcriptionBody(hour));
    const doc = JSON.parse(bytes.toString('utf8')) as TranscriptionJson;
    const sentences = doc.transcripts[0]?.sentences ?? [];
    const words = sentences.flatMap((s) => s.words);

    expect(bytes.length).toBeGreaterThanOrEqual(600_000);
    expect(bytes.length).toBeLessThanOrEqual(1_000_000);
    expect(words.length).toBeGreaterThan(8_000);
    expect(words.length).toBeLessThan(10_000);
    expect(doc.file_url).toBe(hour);
    expect(doc.properties.original_duration_in_milliseconds).toBe(3_600_000);
    expect(doc).toEqual(transcriptionFor(hour));

    const normalized = normalizeTranscription(doc);
    expect(normalized.duration_ms).toBe(3_600_000);
    expect(normalized.channels).toHaveLength(1);
    expect(normalized.channels[0]?.sentences).toHaveLength(sentences.length);
    expect(normalized.channels[0]?.sentences.flatMap((s) => s.words)).toHaveLength(words.length);
    expect(normalized.text).toBe(doc.transcripts[0]?.text);
  });

  it('when a long transcript is read, then words rebuild sentences and every time lies inside the file', () => {
    const doc = transcriptionFor('https://media.example.com/sim-minutes=5/review.mp3');
    const transcript = doc.transcripts[0];
    if (transcript === undefined) throw new Error('expected one transcript');

    let previousEnd = 0;
    let speech = 0;
    transcript.sentences.forEach((sentence, index) => {
      expect(sentence.sentence_id).toBe(index + 1);
      expect(sentence.begin_time).toBeGreaterThanOrEqual(previousEnd);
      expect(sentence.words.map((w) => w.text + w.punctuation).join('')).toBe(sentence.text);
      expect(sentence.words[0]?.begin_time).toBe(sentence.begin_time);
      expect(sentence.words.at(-1)?.end_time).toBe(sentence.end_time);
      for (const word of sentence.words) expect(word.end_time).toBeGreaterThan(word.begin_time);
      speech += sentence.end_time - sentence.begin_time;
      previousEnd = sentence.end_time;
    });
    expect(previousEnd).toBeLessThanOrEqual(300_000);
    expect(doc.properties.original_duration_in_milliseconds).toBe(300_000);
    expect(transcript.content_duration_in_milliseconds).toBe(speech);
    expect(transcript.sentences.map((s) => s.text).join(' ')).toBe(transcript.text);
  });

  it('when a default length is given, then URLs without a marker use it and a marker wins over it', () => {
    expect(transcriptionFor(url, 2).properties.original_duration_in_milliseconds).toBe(120_000);
    expect(transcriptionFor(hour, 2).properties.original_duration_in_milliseconds).toBe(3_600_000);
    expect(transcriptionTimes(url, 2).durationMs).toBe(120_000);
  });

  it('when two URLs ask for the same length, then each document names its own file and neither is re-serialized', () => {
    const other = hour.replace('all-hands', 'board');
    const [head, tail] = transcriptionBody(other);

    expect((JSON.parse(Buffer.concat(transcriptionBody(other)).toString()) as TranscriptionJson).file_url).toBe(other);
    expect(head?.toString()).toBe(`{"file_url":${JSON.stringify(other)}`);
    // The cached tail is the same Buffer on every call: long bodies are built once.
    expect(transcriptionBody(other)[1]).toBe(tail);
  });

  it.each(['sim-minutes=0', 'sim-minutes=721', 'sim-minutes=abc'])(
    'when the marker is %s, then it is ignored and the short transcript is served',
    (marker) => {
      const doc = transcriptionFor(`https://media.example.com/${marker}/x.wav`);

      expect(doc.transcripts[0]?.sentences.length).toBeLessThanOrEqual(4);
      expect(doc.transcripts[0]?.sentences[0]?.text).toBe('This is the recording at x.wav.');
    },
  );
});
