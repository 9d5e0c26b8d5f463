import { describe, expect, it } from '@jest/globals';
import { transcriptionFor } from '../src/index.js';

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
