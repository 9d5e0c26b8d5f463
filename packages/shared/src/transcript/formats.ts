import type { Transcript } from './normalize.js';

/** `raw` is upstream's JSON as received, so it has no renderer here. */
export type TranscriptFormat = 'json' | 'txt' | 'srt' | 'vtt' | 'raw';

export const TRANSCRIPT_FORMATS: readonly TranscriptFormat[] = ['json', 'txt', 'srt', 'vtt', 'raw'];

export const TRANSCRIPT_CONTENT_TYPES: Record<TranscriptFormat, string> = {
  json: 'application/json; charset=utf-8',
  raw: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
};

export function isTranscriptFormat(value: unknown): value is TranscriptFormat {
  return typeof value === 'string' && (TRANSCRIPT_FORMATS as readonly string[]).includes(value);
}

/** Renders a normalized transcript in every format except `raw`. */
export function renderTranscript(t: Transcript, format: Exclude<TranscriptFormat, 'raw'>): string {
  switch (format) {
    case 'json':
      return JSON.stringify(t);
    case 'txt':
      return toPlainText(t);
    case 'srt':
      return toSrt(t);
    case 'vtt':
      return toWebVtt(t);
  }
}

/** One line per channel, with a trailing newline; empty when no channel was recognised. */
export function toPlainText(t: Transcript): string {
  if (t.channels.length === 0) return '';
  return `${t.channels.map((c) => c.text).join('\n')}\n`;
}

interface Cue {
  begin_ms: number;
  end_ms: number;
  text: string;
  /** Set only when the transcript has more than one channel. */
  channelId: number | null;
  speakerId: number | null;
}

/** Every sentence with text, from all channels, ordered by begin time (channel order breaks ties). */
function cuesOf(t: Transcript): Cue[] {
  const multiChannel = t.channels.length > 1;
  const cues = t.channels.flatMap((channel) =>
    channel.sentences.map((s) => ({
      begin_ms: s.begin_ms,
      end_ms: s.end_ms,
      // A blank line would end a cue in both formats; ASR text has none, but be sure.
      text: s.text.replace(/\s*[\r\n]+\s*/g, ' ').trim(),
      channelId: multiChannel ? channel.channel_id : null,
      speakerId: s.speaker_id ?? null,
    })),
  );
  // Array.prototype.sort is stable, so equal begins keep channel order.
  return cues.filter((c) => c.text !== '').sort((a, b) => a.begin_ms - b.begin_ms);
}

/** `HH:MM:SS<sep>mmm`; hours grow past two digits rather than wrap. */
function timestamp(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = Math.floor(total / 1000) % 60;
  const millis = total % 1000;
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(millis, 3)}`;
}

function channelPrefix(cue: Cue): string {
  return cue.channelId === null ? '' : `[ch ${cue.channelId}] `;
}

/** SubRip: cues numbered from 1, `,` before the milliseconds, text as is. */
export function toSrt(t: Transcript): string {
  const cues = cuesOf(t).map((cue, i) => {
    const speaker = cue.speakerId === null ? '' : `Speaker ${cue.speakerId}: `;
    return `${i + 1}\n${timestamp(cue.begin_ms, ',')} --> ${timestamp(cue.end_ms, ',')}\n${channelPrefix(cue)}${speaker}${cue.text}`;
  });
  return cues.length === 0 ? '' : `${cues.join('\n\n')}\n`;
}

/** WebVTT cue text: `&`, `<` and `>` as character references, which also defuses a `-->` in the text. */
function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** WebVTT: `WEBVTT` header, numeric cue identifiers, `.` before the milliseconds, speakers as `<v>` voice spans. */
export function toWebVtt(t: Transcript): string {
  const cues = cuesOf(t).map((cue, i) => {
    const voice = cue.speakerId === null ? '' : `<v Speaker ${cue.speakerId}>`;
    const text = `${voice}${escapeVtt(channelPrefix(cue) + cue.text)}`;
    return `${i + 1}\n${timestamp(cue.begin_ms, '.')} --> ${timestamp(cue.end_ms, '.')}\n${text}`;
  });
  return cues.length === 0 ? 'WEBVTT\n' : `WEBVTT\n\n${cues.join('\n\n')}\n`;
}
