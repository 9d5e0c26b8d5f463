import { describe, expect, it } from '@jest/globals';
import { fileUrl, isAcceptedFileUrl } from '../src/domain/requests.js';
import { prng } from '../../../test/support/prng.js';
import { HOSTILE_URLS, edgeUrl, randomUrl } from '../../../test/support/url-corpus.js';

describe('isAcceptedFileUrl', () => {
  it('when given hostile and ordinary URLs, then it accepts exactly what the fileUrl schema accepts', () => {
    const disagreements = HOSTILE_URLS.filter((u) => isAcceptedFileUrl(u) !== fileUrl.safeParse(u).success);
    expect(disagreements).toEqual([]);
    // The corpus holds both answers, so agreement is not all-true or all-false.
    expect(HOSTILE_URLS.filter((u) => isAcceptedFileUrl(u)).length).toBeGreaterThan(10);
    expect(HOSTILE_URLS.filter((u) => !isAcceptedFileUrl(u)).length).toBeGreaterThan(10);
  });

  it('when given 20,000 URLs glued from hostile pieces (seeded), then it agrees with the schema on each', () => {
    const next = prng(20261201);
    const disagreements: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = randomUrl(next);
      const fast = isAcceptedFileUrl(u);
      if (fast) accepted++;
      if (fast !== fileUrl.safeParse(u).success) disagreements.push(u);
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(accepted).toBeGreaterThan(1_000);
  });

  it("when given 20,000 host-and-path URLs near the fast path's edges (numeric labels, xn--, hyphens, every printable byte), then it agrees with the schema on each", () => {
    const next = prng(7);
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const u = edgeUrl(next);
      if (isAcceptedFileUrl(u) !== fileUrl.safeParse(u).success) disagreements.push(u);
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
  });

  it('when given what is not a string, then it refuses it', () => {
    for (const v of [null, undefined, 1, {}, ['https://a/b'], true]) expect(isAcceptedFileUrl(v)).toBe(false);
  });
});
