/** The transcription JSON behind a `transcription_url`, as DashScope documents it. */
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
