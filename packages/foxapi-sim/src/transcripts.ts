import { SeededRandom, hashString } from './random.js';

/** The transcription JSON behind a `transcription_url` (foxapi.md B.5). */
export interface TranscriptionJson {
  file_url: string;
  properties: TranscriptionProperties;
  transcripts: Transcript[];
}

export interface TranscriptionProperties {
  audio_format: 'pcm_s16le';
  channels: number[];
  original_sampling_rate: number;
  original_duration_in_milliseconds: number;
}

export interface Transcript {
  channel_id: number;
  content_duration_in_milliseconds: number;
  text: string;
  sentences: Sentence[];
}

export interface Sentence {
  begin_time: number;
  end_time: number;
  text: string;
  sentence_id: number;
  words: Word[];
}

export interface Word {
  begin_time: number;
  end_time: number;
  text: string;
  punctuation: string;
}

const FILLER_SENTENCES = [
  'The simulator wrote this sentence for you.',
  'Every word here carries its own timing.',
  'Nothing in this file was actually heard.',
];

/**
 * Builds a plausible transcription whose content depends only on the file URL, so a test can
 * compute the expected text and a re-download returns identical bytes.
 */
export function transcriptionFor(fileUrl: string): TranscriptionJson {
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
    // B.5's example puts the separating space in the word text ("Hello ") unless punctuation
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
