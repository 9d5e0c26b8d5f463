import { describe, expect, it } from '@jest/globals';
import {
  TRANSCRIPT_CONTENT_TYPES,
  UnparsableTranscriptError,
  isUnparsableTranscriptError,
  normalizeTranscription,
  renderTranscript,
  toPlainText,
  toSrt,
  toWebVtt,
  type Sentence,
  type Transcript,
} from '../src/transcript/index.js';

/** The example of docs/upstream.md, "Transcription JSON", with diarization on. */
function b5(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    file_url: 'https://media.example/a.wav',
    properties: { audio_format: 'pcm_s16le', channels: [0], original_sampling_rate: 16000, original_duration_in_milliseconds: 3834 },
    transcripts: [
      {
        channel_id: 0,
        content_duration_in_milliseconds: 3720,
        text: 'Hello world, 这里是阿里巴巴语音实验室。',
        sentences: [
          {
            begin_time: 100,
            end_time: 3820,
            text: 'Hello world, 这里是阿里巴巴语音实验室。',
            sentence_id: 1,
            speaker_id: 0,
            words: [
              { begin_time: 100, end_time: 596, text: 'Hello ', punctuation: '' },
              { begin_time: 596, end_time: 844, text: 'world', punctuation: ', ' },
            ],
          },
        ],
      },
    ],
    ...overrides,
  };
}

function aSentence(overrides: Partial<Sentence> = {}): Sentence {
  return { begin_ms: 0, end_ms: 1000, text: 'Hello.', words: [], ...overrides };
}

describe('normalizeTranscription', () => {
  it('when given B.5 JSON with words and speakers, then times become *_ms and every level is kept', () => {
    const t = normalizeTranscription(b5());

    expect(t).toEqual({
      text: 'Hello world, 这里是阿里巴巴语音实验室。',
      duration_ms: 3834,
      channels: [
        {
          channel_id: 0,
          text: 'Hello world, 这里是阿里巴巴语音实验室。',
          sentences: [
            {
              begin_ms: 100,
              end_ms: 3820,
              text: 'Hello world, 这里是阿里巴巴语音实验室。',
              speaker_id: 0,
              words: [
                // Upstream pads words with spaces ("Hello ", ", "): the words come out bare.
                { begin_ms: 100, end_ms: 596, text: 'Hello', punctuation: '' },
                { begin_ms: 596, end_ms: 844, text: 'world', punctuation: ',' },
              ],
            },
          ],
        },
      ],
    });
  });

  it('when diarization was off, then sentences carry no speaker_id key', () => {
    const raw = b5({
      transcripts: [{ channel_id: 0, text: 'Hi.', sentences: [{ begin_time: 0, end_time: 500, text: 'Hi.', words: [] }] }],
    });

    const sentence = normalizeTranscription(raw).channels[0]?.sentences[0];

    expect(sentence).toBeDefined();
    expect(sentence).not.toHaveProperty('speaker_id');
  });

  it('when there are several channels, then each is kept in channel order and the text joins them by line', () => {
    const raw = b5({
      properties: { channels: [0, 1] },
      transcripts: [
        {
          channel_id: 1,
          content_duration_in_milliseconds: 5000,
          text: 'Right.',
          sentences: [{ begin_time: 1200, end_time: 1700, text: 'Right.' }],
        },
        {
          channel_id: 0,
          content_duration_in_milliseconds: 4200,
          text: 'Hello there.',
          sentences: [{ begin_time: 0, end_time: 1000, text: 'Hello there.' }],
        },
      ],
    });

    const t = normalizeTranscription(raw);

    expect(t.channels.map((c) => c.channel_id)).toEqual([0, 1]);
    expect(t.text).toBe('Hello there.\nRight.');
    // Without original_duration_in_milliseconds, the longest speech duration stands in.
    expect(t.duration_ms).toBe(5000);
    expect(t.channels[1]?.sentences[0]?.words).toEqual([]);
  });

  it('when given the inline result entry, then it reads the same as the downloaded JSON', () => {
    const inline = { ...b5(), subtask_status: 'SUCCEEDED' };

    expect(normalizeTranscription(inline)).toEqual(normalizeTranscription(b5()));
  });

  it('when no speech was found, then the transcript is valid and empty', () => {
    expect(normalizeTranscription(b5({ transcripts: [] }))).toEqual({ text: '', duration_ms: 3834, channels: [] });
    expect(normalizeTranscription(b5({ transcripts: [{ channel_id: 0, text: '', sentences: [] }] }))).toEqual({
      text: '',
      duration_ms: 3834,
      channels: [{ channel_id: 0, text: '', sentences: [] }],
    });
  });

  it('when no duration is known, then duration_ms is null', () => {
    expect(normalizeTranscription({ transcripts: [] }).duration_ms).toBeNull();
  });

  it('when times are negative or reversed, then they are clamped to a non-negative span', () => {
    const raw = b5({ transcripts: [{ channel_id: 0, text: 'x', sentences: [{ begin_time: -40, end_time: -10, text: 'x' }] }] });

    const sentence = normalizeTranscription(raw).channels[0]?.sentences[0];

    expect(sentence).toMatchObject({ begin_ms: 0, end_ms: 0 });
  });

  it('when texts are missing, then they are rebuilt from words and sentences', () => {
    const raw = b5({
      transcripts: [
        {
          channel_id: 0,
          sentences: [
            {
              begin_time: 0,
              end_time: 900,
              words: [
                { begin_time: 0, end_time: 400, text: 'Good ', punctuation: '' },
                { begin_time: 400, end_time: 900, text: 'day', punctuation: '.' },
              ],
            },
          ],
        },
      ],
    });

    const t = normalizeTranscription(raw);

    expect(t.channels[0]?.sentences[0]?.text).toBe('Good day.');
    expect(t.text).toBe('Good day.');
    expect(t.channels[0]?.sentences[0]?.words.map((w) => [w.text, w.punctuation])).toEqual([
      ['Good', ''],
      ['day', '.'],
    ]);
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an array', [1, 2]],
    ['an unrelated object', { error: 'AccessDenied' }],
    ['transcripts that is not an array', { transcripts: 'x' }],
    ['a sentence without times', { transcripts: [{ channel_id: 0, sentences: [{ text: 'x' }] }] }],
    [
      'a word with a string time',
      {
        transcripts: [{ channel_id: 0, sentences: [{ begin_time: 0, end_time: 1, words: [{ begin_time: '0', end_time: 1, text: 'x' }] }] }],
      },
    ],
  ])('when given %s, then it throws UnparsableTranscriptError with its code', (_label, raw) => {
    let thrown: unknown;
    try {
      normalizeTranscription(raw);
    } catch (err) {
      thrown = err;
    }

    expect(thrown).toBeInstanceOf(UnparsableTranscriptError);
    expect(isUnparsableTranscriptError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ name: 'UnparsableTranscriptError', code: 'upstream_unparsable_result' });
  });
});

/** One channel, two sentences, the second past the one-hour mark, with speakers. */
const oneChannel: Transcript = {
  text: 'Hello world. Bye & <see> you --> later.',
  duration_ms: 3_730_000,
  channels: [
    {
      channel_id: 0,
      text: 'Hello world. Bye & <see> you --> later.',
      sentences: [
        aSentence({ begin_ms: 100, end_ms: 1_500, text: 'Hello world.', speaker_id: 0 }),
        aSentence({ begin_ms: 3_723_456, end_ms: 3_725_001, text: 'Bye & <see> you --> later.', speaker_id: 1 }),
      ],
    },
  ],
};

/** Two channels whose sentences interleave in time, no speakers. */
const twoChannels: Transcript = {
  text: 'Hi, support here. Thanks, bye.\nI have a problem.',
  duration_ms: 10_000,
  channels: [
    {
      channel_id: 0,
      text: 'Hi, support here. Thanks, bye.',
      sentences: [
        aSentence({ begin_ms: 0, end_ms: 2_000, text: 'Hi, support here.' }),
        aSentence({ begin_ms: 7_000, end_ms: 9_000, text: 'Thanks, bye.' }),
      ],
    },
    { channel_id: 1, text: 'I have a problem.', sentences: [aSentence({ begin_ms: 2_500, end_ms: 6_000, text: 'I have a problem.' })] },
  ],
};

const noSpeech: Transcript = { text: '', duration_ms: 5_000, channels: [] };

describe('toPlainText', () => {
  it('when there is one channel, then it is that text with a trailing newline', () => {
    expect(toPlainText(oneChannel)).toBe('Hello world. Bye & <see> you --> later.\n');
  });

  it('when there are several channels, then there is one line per channel', () => {
    expect(toPlainText(twoChannels)).toBe('Hi, support here. Thanks, bye.\nI have a problem.\n');
  });

  it('when there was no speech, then it is empty', () => {
    expect(toPlainText(noSpeech)).toBe('');
  });
});

describe('toSrt', () => {
  it('when there is one channel with speakers, then cues are numbered from 1 with comma milliseconds, hours and speaker prefixes', () => {
    expect(toSrt(oneChannel)).toBe(
      [
        '1',
        '00:00:00,100 --> 00:00:01,500',
        'Speaker 0: Hello world.',
        '',
        '2',
        '01:02:03,456 --> 01:02:05,001',
        'Speaker 1: Bye & <see> you --> later.',
        '',
      ].join('\n'),
    );
  });

  it('when there are several channels, then cues merge by begin time and carry a channel prefix', () => {
    expect(toSrt(twoChannels)).toBe(
      [
        '1',
        '00:00:00,000 --> 00:00:02,000',
        '[ch 0] Hi, support here.',
        '',
        '2',
        '00:00:02,500 --> 00:00:06,000',
        '[ch 1] I have a problem.',
        '',
        '3',
        '00:00:07,000 --> 00:00:09,000',
        '[ch 0] Thanks, bye.',
        '',
      ].join('\n'),
    );
  });

  it('when a transcript runs past ten hours, then hours keep counting', () => {
    const long: Transcript = {
      text: 'x',
      duration_ms: null,
      channels: [{ channel_id: 0, text: 'x', sentences: [aSentence({ begin_ms: 36_000_000, end_ms: 36_061_999, text: 'x' })] }],
    };

    expect(toSrt(long)).toBe('1\n10:00:00,000 --> 10:01:01,999\nx\n');
  });

  it('when a sentence is empty or the text has line breaks, then numbering stays contiguous and each cue is one text line', () => {
    const t: Transcript = {
      text: '',
      duration_ms: null,
      channels: [
        {
          channel_id: 0,
          text: '',
          sentences: [aSentence({ text: '  ' }), aSentence({ begin_ms: 2000, end_ms: 3000, text: 'one\n\ntwo' })],
        },
      ],
    };

    expect(toSrt(t)).toBe('1\n00:00:02,000 --> 00:00:03,000\none two\n');
  });

  it('when there was no speech, then it is empty', () => {
    expect(toSrt(noSpeech)).toBe('');
  });
});

describe('toWebVtt', () => {
  it('when there is one channel with speakers, then it has the header, dot milliseconds, voice tags and escaped text', () => {
    expect(toWebVtt(oneChannel)).toBe(
      [
        'WEBVTT',
        '',
        '1',
        '00:00:00.100 --> 00:00:01.500',
        '<v Speaker 0>Hello world.',
        '',
        '2',
        '01:02:03.456 --> 01:02:05.001',
        '<v Speaker 1>Bye &amp; &lt;see&gt; you --&gt; later.',
        '',
      ].join('\n'),
    );
  });

  it('when there are several channels, then cues merge by begin time with a channel prefix', () => {
    expect(toWebVtt(twoChannels)).toBe(
      [
        'WEBVTT',
        '',
        '1',
        '00:00:00.000 --> 00:00:02.000',
        '[ch 0] Hi, support here.',
        '',
        '2',
        '00:00:02.500 --> 00:00:06.000',
        '[ch 1] I have a problem.',
        '',
        '3',
        '00:00:07.000 --> 00:00:09.000',
        '[ch 0] Thanks, bye.',
        '',
      ].join('\n'),
    );
  });

  it('when there was no speech, then it is only the header', () => {
    expect(toWebVtt(noSpeech)).toBe('WEBVTT\n');
  });
});

describe('renderTranscript and content types', () => {
  it('when rendering each format, then it matches the dedicated function, and json round-trips', () => {
    expect(renderTranscript(oneChannel, 'txt')).toBe(toPlainText(oneChannel));
    expect(renderTranscript(oneChannel, 'srt')).toBe(toSrt(oneChannel));
    expect(renderTranscript(oneChannel, 'vtt')).toBe(toWebVtt(oneChannel));
    expect(JSON.parse(renderTranscript(oneChannel, 'json'))).toEqual(oneChannel);
  });

  it('when serving a format, then its content type is the registered one with utf-8', () => {
    expect(TRANSCRIPT_CONTENT_TYPES).toEqual({
      json: 'application/json; charset=utf-8',
      raw: 'application/json; charset=utf-8',
      txt: 'text/plain; charset=utf-8',
      srt: 'application/x-subrip; charset=utf-8',
      vtt: 'text/vtt; charset=utf-8',
    });
  });

  it('when a B.5 JSON goes all the way to SRT, then the word-level fixture yields one cue', () => {
    expect(toSrt(normalizeTranscription(b5()))).toBe(
      '1\n00:00:00,100 --> 00:00:03,820\nSpeaker 0: Hello world, 这里是阿里巴巴语音实验室。\n',
    );
  });
});
