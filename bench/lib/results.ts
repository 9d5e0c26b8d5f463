import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One figure of the suite, as written to `bench/results/<name>.json`. */
export interface BenchResult {
  name: string;
  value: number;
  /** What the same run measured for the floor or baseline, or null when there is none. */
  baseline: number | null;
  /** value ÷ baseline, or null without a baseline. */
  ratio: number | null;
  unit: string;
  /** The target as a human reads it (e.g. `ratio ≤ 1.5`), or null for a reported-only figure. */
  target: string | null;
  /** Whether the target is met, or null for a reported-only figure. */
  pass: boolean | null;
  /** How it was measured: repetitions, breakdowns, settings. */
  details?: Record<string, unknown>;
}

type Check =
  { ratioAtMost: number } | { ratioAtLeast: number } | { valueAtMost: number } | { valueAtLeast: number } | { valueBelow: number } | null;

/** Builds a result, computing ratio and pass from the check. */
export function result(
  name: string,
  value: number,
  baseline: number | null,
  unit: string,
  check: Check,
  details?: Record<string, unknown>,
): BenchResult {
  const ratio = baseline === null || baseline === 0 ? null : value / baseline;
  let target: string | null = null;
  let pass: boolean | null = null;
  if (check && 'ratioAtMost' in check) {
    target = `ratio ≤ ${check.ratioAtMost}`;
    pass = ratio !== null && ratio <= check.ratioAtMost;
  } else if (check && 'ratioAtLeast' in check) {
    target = `ratio ≥ ${check.ratioAtLeast}`;
    pass = ratio !== null && ratio >= check.ratioAtLeast;
  } else if (check && 'valueAtMost' in check) {
    target = `≤ ${check.valueAtMost} ${unit}`;
    pass = value <= check.valueAtMost;
  } else if (check && 'valueAtLeast' in check) {
    target = `≥ ${check.valueAtLeast} ${unit}`;
    pass = value >= check.valueAtLeast;
  } else if (check && 'valueBelow' in check) {
    target = `< ${check.valueBelow} ${unit}`;
    pass = value < check.valueBelow;
  }
  return {
    name,
    value: round(value),
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio, 3),
    unit,
    target,
    pass,
    ...(details ? { details } : {}),
  };
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function writeResults(dir: string, results: BenchResult[]): void {
  mkdirSync(dir, { recursive: true });
  for (const r of results) writeFileSync(join(dir, `${r.name}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

const fmt = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The table as Markdown (README's Performance section) and as aligned text for the terminal. */
export function resultTable(results: BenchResult[]): { markdown: string; text: string } {
  const head = ['benchmark', 'value', 'baseline', 'ratio', 'unit', 'target', 'pass'];
  const rows = results.map((r) => [
    r.name,
    fmt(r.value),
    fmt(r.baseline),
    r.ratio === null ? '—' : `${fmt(r.ratio)}×`,
    r.unit,
    r.target ?? '(reported)',
    r.pass === null ? '—' : r.pass ? 'yes' : 'NO',
  ]);
  const markdown = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const text = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  return { markdown, text };
}
