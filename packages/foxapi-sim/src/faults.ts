import type { FaultRule } from './config.js';
import { SeededRandom } from './random.js';

export type FaultRoute = 'submit' | 'poll' | 'download';

interface ArmedRule {
  readonly rule: FaultRule;
  remaining: number;
}

/**
 * The injected faults with their remaining counts. Rules are tried in order; a rule fires when
 * its route matches, it has uses left and its probability draw succeeds. Only the firing rule
 * spends a use.
 */
export class FaultBook {
  private rules: ArmedRule[] = [];
  private random: SeededRandom;

  constructor(rules: readonly FaultRule[], seed: number) {
    this.random = new SeededRandom(seed);
    this.replace(rules);
  }

  /** Arms a fresh list; counts of the previous list are forgotten. */
  replace(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY }));
  }

  reseed(seed: number): void {
    this.random = new SeededRandom(seed);
  }

  /** The fault to answer this request with, if any. */
  take(route: FaultRoute): FaultRule | undefined {
    for (const armed of this.rules) {
      const { rule } = armed;
      if (armed.remaining <= 0) continue;
      if (rule.route !== 'any' && rule.route !== route) continue;
      const probability = rule.probability ?? 1;
      // Draw only for real chances, so certain rules do not move the seeded sequence.
      if (probability < 1 && this.random.next() >= probability) continue;
      armed.remaining -= 1;
      return rule;
    }
    return undefined;
  }
}
