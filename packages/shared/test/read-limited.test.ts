import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { BodyTooLargeError, readLimited } from '../src/io/read-limited.js';

describe('size-limited body reader', () => {
  it('when the body fits, then every chunk comes back joined', async () => {
    const body = Readable.from([Buffer.from('ab'), new Uint8Array([99]), Buffer.from('d')]);
    expect((await readLimited(body, 4)).toString()).toBe('abcd');
  });

  it('when the body passes the limit, then reading stops there with BodyTooLargeError and the stream is ended', async () => {
    let pulled = 0;
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 1_000; i++) {
          pulled++;
          yield Buffer.alloc(10);
        }
      })(),
    );
    await expect(readLimited(body, 25)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(pulled).toBeLessThan(20);
    expect(body.destroyed).toBe(true);
  });
});
