/**
 * A real WAV file: a 44-byte RIFF header and `seconds` of 8 kHz 16-bit mono noise, the same
 * bytes for the same seed. Small enough to write by the dozen (16 KB a second), real enough
 * for any media check (the demo's folder of recordings, the tests of jobs from uploads).
 */
export function wav(seconds: number, seed: number): Buffer {
  const samples = Math.round(seconds * 8000);
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(8000, 24);
  out.writeUInt32LE(16000, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(samples * 2, 40);
  let x = seed;
  for (let i = 0; i < samples; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.writeInt16LE((x % 2000) - 1000, 44 + i * 2);
  }
  return out;
}
