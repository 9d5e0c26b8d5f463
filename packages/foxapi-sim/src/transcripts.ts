import { longTranscription, LONG_VARIANTS } from './long-transcripts.js';
import { SeededRandom, hashString } from './random.js';
import type { Sentence, TranscriptionJson } from './transcription-json.js';

export type { Sentence, Transcript, TranscriptionJson, TranscriptionProperties, Word } from './transcription-json.js';

/** foxapi takes files of at most 12 h, so no transcript is longer. */
export const MAX_TRANSCRIPT_MINUTES = 720;

const MINUTES_MARKER = /sim-minutes=(\d+(?:\.\d+)?)/;

/** Minutes of speech asked for by a `sim-minutes=<n>` marker in the URL (0 < n ≤ 720), if any. */
export function minutesMarker(fileUrl: string): number | undefined {
  const value = Number(MINUTES_MARKER.exec(fileUrl)?.[1] ?? Number.NaN);
  return value > 0 && value <= MAX_TRANSCRIPT_MINUTES ? value : undefined;
}

/** The URL's marker wins over the default; undefined = the short two-to-four-sentence transcript. */
export function transcriptMinutesFor(fileUrl: string, defaultMinutes: number | undefined): number | undefined {
  return minutesMarker(fileUrl) ?? defaultMinutes;
}

/**
 * The transcription of `fileUrl`: `minutes` of speech when the URL carries a `sim-minutes=`
 * marker or `defaultMinutes` is given, else a short one. The content depends only on the URL
 * and the length, so a test can compute what to expect and a re-download returns the same bytes.
 */
export function transcriptionFor(fileUrl: string, defaultMinutes?: number): TranscriptionJson {
  const minutes = transcriptMinutesFor(fileUrl, defaultMinutes);
  if (minutes === undefined) return shortTranscription(fileUrl);
  const { properties, transcripts } = longTranscription(minutes, variantOf(fileUrl));
  return { file_url: fileUrl, properties, transcripts };
}

/** The serialized transcription as chunks to write in order; long ones come from a cache. */
export function transcriptionBody(fileUrl: string, defaultMinutes?: number): Buffer[] {
  const minutes = transcriptMinutesFor(fileUrl, defaultMinutes);
  if (minutes === undefined) return [Buffer.from(JSON.stringify(shortTranscription(fileUrl)))];
  const { tail } = longTranscription(minutes, variantOf(fileUrl));
  return [Buffer.from(`{"file_url":${JSON.stringify(fileUrl)}`), tail];
}

export interface TranscriptionTimes {
  /** `properties.original_duration_in_milliseconds`. */
  durationMs: number;
  /** `content_duration_in_milliseconds` of the transcript: the speech upstream bills. */
  speechMs: number;
}

export function transcriptionTimes(fileUrl: string, defaultMinutes?: number): TranscriptionTimes {
  const minutes = transcriptMinutesFor(fileUrl, defaultMinutes);
  if (minutes !== undefined) {
    const { durationMs, speechMs } = longTranscription(minutes, variantOf(fileUrl));
    return { durationMs, speechMs };
  }
  const { properties, transcripts } = shortTranscription(fileUrl);
  return {
    durationMs: properties.original_duration_in_milliseconds,
    speechMs: transcripts[0]?.content_duration_in_milliseconds ?? 0,
  };
}

function variantOf(fileUrl: string): number {
  return hashString(fileUrl) % LONG_VARIANTS;
}

const FILLER_SENTENCES = [
  'The simulator wrote this sentence for you.',
  'Every word here carries its own timing.',
  'Nothing in this file was actually heard.',
];

/** Two to four sentences naming the file; the default, as small as a transcription gets. */
function shortTranscription(fileUrl: string): TranscriptionJson {
  const random = new SeededRandom(hashString(fileUrl));
  const sentenceCount = random.int(2, 4);
  const texts = [`This is the recording at ${lastPathSegment(fileUrl)}.`, ...FILLER_SENTENCES].slice(0, sentenceCount);

  let cursor = random.int(100, 500);
  let speechMs = 0;
  const sentences = texts.map((text, index) => {
    const sentence = timedSentence(text, index + 1, cursor, random);
    speechMs += sentence.end_time - sentence.begin_time;
    cursor = sentence.end_time + random.int(200, 600);
    return sentence;
  });
  const lastEnd = sentences.at(-1)?.end_time ?? 0;

  return {
    file_url: fileUrl,
    properties: {
      audio_format: 'pcm_s16le',
      channels: [0],
      original_sampling_rate: 16000,
      original_duration_in_milliseconds: lastEnd + random.int(300, 1500),
    },
    transcripts: [
      {
        channel_id: 0,
        content_duration_in_milliseconds: speechMs,
        text: texts.join(' '),
        sentences,
      },
    ],
  };
}

/** Splits a sentence into words whose `text + punctuation` concatenate back to the sentence. */
function timedSentence(text: string, sentenceId: number, beginMs: number, random: SeededRandom): Sentence {
  const tokens = text.split(' ');
  let cursor = beginMs;
  const words = tokens.map((token, index) => {
    const match = /^(.*?)([.,!?]*)$/s.exec(token);
    const bare = match?.[1] ?? token;
    const punctuation = match?.[2] ?? '';
    const isLast = index === tokens.length - 1;
    const begin = cursor;
    cursor += random.int(180, 520);
    // DashScope's example puts the separating space in the word text ("Hello ") unless punctuation
    // follows, which then carries it ("world" + ", ").
    const separator = isLast ? '' : ' ';
    return punctuation === ''
      ? { begin_time: begin, end_time: cursor, text: `${bare}${separator}`, punctuation }
      : { begin_time: begin, end_time: cursor, text: bare, punctuation: `${punctuation}${separator}` };
  });
  return { begin_time: beginMs, end_time: cursor, text, sentence_id: sentenceId, words };
}

function lastPathSegment(fileUrl: string): string {
  try {
    const url = new URL(fileUrl);
    const segment = url.pathname.split('/').filter(Boolean).at(-1);
    return segment === undefined ? url.host : decodeURIComponent(segment);
  } catch {
    return fileUrl;
  }
}
