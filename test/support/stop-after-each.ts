import { afterEach } from '@jest/globals';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The set-up every stack-based test file used to copy: what a test starts is stopped after that
 * test, passed or failed, last started first. Call once at the top of a file; pass each stack
 * (or anything with `stop`) through the returned function as it starts.
 */
export function stopAfterEach(): <T extends Stoppable>(started: T) => T {
  const started: Stoppable[] = [];
  afterEach(async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
  });
  return (s) => {
    started.push(s);
    return s;
  };
}
