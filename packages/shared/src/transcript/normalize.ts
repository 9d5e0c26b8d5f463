import { z } from 'zod';

/**
 * batchscribe's transcript, the `transcript` of a FileResult: the schemas are the OpenAPI
 * document's and the types are inferred from them, so the two cannot part ways.
 */

/** A word and the punctuation predicted after it, each without surrounding spaces (upstream pads words with spaces). */
export const transcriptWordSchema = z.strictObject({
  begin_ms: z.number().int().min(0),
  end_ms: z.number().int().min(0),
  text: z.string().meta({ description: 'The word, without surrounding spaces.' }),
  punctuation: z.string().meta({ description: 'Punctuation predicted after the word (may be empty), without spaces.' }),
});
export type Word = z.infer<typeof transcriptWordSchema>;

export const transcriptSentenceSchema = z.strictObject({
  begin_ms: z.number().int().min(0),
  end_ms: z.number().int().min(0),
  text: z.string(),
  speaker_id: z.number().int().min(0).optional().meta({ description: 'Present only when diarization was on.' }),
  words: z.array(transcriptWordSchema),
});
export type Sentence = z.infer<typeof transcriptSentenceSchema>;

export const transcriptChannelSchema = z.strictObject({
  channel_id: z.number().int().min(0),
  text: z.string(),
  sentences: z.array(transcriptSentenceSchema),
});
export type Channel = z.infer<typeof transcriptChannelSchema>;

export const transcriptSchema = z
  .strictObject({
    text: z.string().meta({ description: 'Channel texts joined by a newline; empty when no speech was found.' }),
    duration_ms: z.number().int().min(0).nullable(),
    channels: z.array(transcriptChannelSchema),
  })
  .meta({ id: 'Transcript', description: 'Times in milliseconds from the start of the file.' });
export type Transcript = z.infer<typeof transcriptSchema>;

/** The upstream transcription could not be read; its code is the file's error code. */
export class UnparsableTranscriptError extends Error {
  override readonly name = 'UnparsableTranscriptError';
  readonly code = 'upstream_unparsable_result';
}

export function isUnparsableTranscriptError(e: unknown): e is UnparsableTranscriptError {
  return e instanceof Error && e.name === 'UnparsableTranscriptError';
}

/*
 * DashScope's transcription JSON (docs/upstream.md, "Transcription JSON"), read leniently: unknown fields pass, optional
 * fields of an odd type read as absent; the times and the structure are required.
 */
const time = z.number().finite();
const optionalMs = z.number().finite().nonnegative().nullish().catch(null);

const wordSchema = z.looseObject({
  begin_time: time,
  end_time: time,
  text: z.string(),
  punctuation: z.string().nullish().catch(null),
});

const sentenceSchema = z.looseObject({
  begin_time: time,
  end_time: time,
  text: z.string().nullish(),
  speaker_id: z.number().int().nonnegative().nullish().catch(null),
  words: z.array(wordSchema).nullish(),
});

const channelSchema = z.looseObject({
  channel_id: z.number().int().nonnegative().nullish().catch(null),
  content_duration_in_milliseconds: optionalMs,
  text: z.string().nullish(),
  sentences: z.array(sentenceSchema).nullish(),
});

/** Also matches the inline result entry `{file_url, transcripts, properties}` (docs/upstream.md, "Result shapes"). */
const transcriptionSchema = z.looseObject({
  properties: z.looseObject({ original_duration_in_milliseconds: optionalMs }).nullish().catch(null),
  transcripts: z.array(channelSchema).nullish(),
});

type RawChannel = z.infer<typeof channelSchema>;
type RawSentence = z.infer<typeof sentenceSchema>;
type RawWord = z.infer<typeof wordSchema>;

/**
 * Upstream transcription JSON → Transcript. Empty or absent `transcripts`/`sentences` mean
 * "no speech" (docs/upstream.md, "No speech"), which is a valid, empty transcript.
 * @throws UnparsableTranscriptError when the JSON is not a transcription.
 */
export function normalizeTranscription(raw: unknown): Transcript {
  const parsed = transcriptionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
    throw new UnparsableTranscriptError(`transcription JSON unreadable at ${where}`, { cause: parsed.error });
  }
  const { properties, transcripts } = parsed.data;
  if (transcripts == null && properties == null) {
    // A JSON object with neither is something else (an error document, an HTML-to-JSON proxy page…).
    throw new UnparsableTranscriptError('transcription JSON has neither transcripts nor properties');
  }
  const channels = (transcripts ?? []).map(toChannel).sort((a, b) => a.channel_id - b.channel_id);
  return {
    text: channels.map((c) => c.text).join('\n'),
    duration_ms: durationOf(properties?.original_duration_in_milliseconds, transcripts ?? []),
    channels,
  };
}

/** The source length, else the longest stretch of speech upstream judged, else unknown. */
function durationOf(original: number | null | undefined, transcripts: RawChannel[]): number | null {
  if (original != null) return Math.round(original);
  const speech = transcripts.map((t) => t.content_duration_in_milliseconds).filter((d): d is number => d != null);
  return speech.length > 0 ? Math.round(Math.max(...speech)) : null;
}

function toChannel(raw: RawChannel, position: number): Channel {
  const sentences = (raw.sentences ?? []).map(toSentence);
  return {
    channel_id: raw.channel_id ?? position,
    text: raw.text ?? sentences.map((s) => s.text).join(' '),
    sentences,
  };
}

function toSentence(raw: RawSentence): Sentence {
  const words = (raw.words ?? []).map(toWord);
  const [begin_ms, end_ms] = span(raw.begin_time, raw.end_time);
  const sentence: Sentence = {
    begin_ms,
    end_ms,
    // Built from the upstream words, whose spacing is what joins them (a trimmed word has none).
    text: raw.text ?? (raw.words ?? []).map((w) => w.text + (w.punctuation ?? '')).join(''),
    words,
  };
  if (raw.speaker_id != null) sentence.speaker_id = raw.speaker_id;
  return sentence;
}

function toWord(raw: RawWord): Word {
  const [begin_ms, end_ms] = span(raw.begin_time, raw.end_time);
  return { begin_ms, end_ms, text: raw.text.trim(), punctuation: (raw.punctuation ?? '').trim() };
}

/** Whole, non-negative milliseconds with the end never before the begin. */
function span(begin: number, end: number): [number, number] {
  const b = Math.max(0, Math.round(begin));
  return [b, Math.max(b, Math.round(end))];
}
