import { SeededRandom } from './random.js';
import type { Sentence, Transcript, TranscriptionProperties, Word } from './transcription-json.js';

/**
 * Meeting-size transcriptions: `minutes` of speech at about 150 words a minute (~9,000 words
 * and ~0.8 MB of JSON an hour). Building one takes milliseconds, but a benchmark downloads
 * hundreds, so the serialized body is built once per (minutes, variant) and kept as a Buffer.
 */

/** Distinct texts per length; a file URL picks one by hash, so neighbouring files differ. */
export const LONG_VARIANTS = 4;
/** Built bodies kept; each is ~0.8 MB per hour of speech plus its parsed form. */
const CACHE_ENTRIES = 8;

const VOCABULARY = (
  'we need to look at the numbers for this quarter and the plan for next one so that every team ' +
  'knows what comes first customer support shipped two fixes last week while the platform group ' +
  'moved the billing service to the new cluster I think we should agree on the release date today ' +
  'because marketing wants a firm answer before friday the design review found three open questions ' +
  'about onboarding latency and search results please write them down with an owner and a deadline ' +
  'budget travel hiring roadmap metrics feedback contract partner launch backlog sprint incident ' +
  'dashboard survey revenue pipeline account renewal migration security audit training'
).split(' ');

export interface LongTranscription {
  readonly properties: TranscriptionProperties;
  readonly transcripts: Transcript[];
  /** `,"properties":…,"transcripts":[…]}`: the serialized document after its `file_url`. */
  readonly tail: Buffer;
  readonly durationMs: number;
  readonly speechMs: number;
}

const cache = new Map<string, LongTranscription>();

export function longTranscription(minutes: number, variant: number): LongTranscription {
  const key = `${minutes}:${variant}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Re-insert so the Map's insertion order is least-recently-used first.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const built = build(minutes, variant);
  cache.set(key, built);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return built;
}

function build(minutes: number, variant: number): LongTranscription {
  const durationMs = Math.round(minutes * 60_000);
  const random = new SeededRandom(0x5eed + variant * 7919 + Math.round(minutes * 1000));
  // The last sentence ends a little before the file does, as trailing silence would.
  const speechEnd = durationMs - Math.min(1_500, Math.floor(durationMs / 10));
  const sentences: Sentence[] = [];
  const texts: string[] = [];
  let cursor = Math.min(random.int(200, 800), Math.floor(durationMs / 10));
  let speechMs = 0;
  for (;;) {
    const sentence = nextSentence(random, sentences.length + 1, cursor, speechEnd);
    if (sentence === undefined) break;
    sentences.push(sentence);
    texts.push(sentence.text);
    speechMs += sentence.end_time - sentence.begin_time;
    cursor = sentence.end_time + random.int(250, 900);
  }
  const properties: TranscriptionProperties = {
    audio_format: 'pcm_s16le',
    channels: [0],
    original_sampling_rate: 16000,
    original_duration_in_milliseconds: durationMs,
  };
  const transcripts: Transcript[] = [{ channel_id: 0, content_duration_in_milliseconds: speechMs, text: texts.join(' '), sentences }];
  const tail = Buffer.from(`,"properties":${JSON.stringify(properties)},"transcripts":${JSON.stringify(transcripts)}}`);
  return { properties, transcripts, tail, durationMs, speechMs };
}

/** A sentence of 5–18 words starting at `beginMs`, or undefined when it would end after `limitMs`. */
function nextSentence(random: SeededRandom, sentenceId: number, beginMs: number, limitMs: number): Sentence | undefined {
  const count = random.int(5, 18);
  const words: Word[] = [];
  let cursor = beginMs;
  for (let i = 0; i < count; i++) {
    const isLast = i === count - 1;
    let bare = VOCABULARY[random.int(0, VOCABULARY.length - 1)] ?? 'word';
    if (i === 0) bare = bare.charAt(0).toUpperCase() + bare.slice(1);
    const punctuation = isLast ? (random.next() < 0.15 ? '?' : '.') : random.next() < 0.08 ? ', ' : '';
    const begin = cursor;
    cursor += random.int(220, 480);
    if (cursor > limitMs) return undefined;
    // As in the short transcripts: the separating space sits in the word text unless
    // punctuation follows, which then carries it.
    const text = punctuation === '' && !isLast ? `${bare} ` : bare;
    words.push({ begin_time: begin, end_time: cursor, text, punctuation });
  }
  const text = words.map((w) => w.text + w.punctuation).join('');
  return { begin_time: beginMs, end_time: cursor, text, sentence_id: sentenceId, words };
}
