import { spawnSync } from 'node:child_process';
import { toolAvailable } from './required-tool.js';

/**
 * The value of one sample in Prometheus text format, or undefined when absent. `labels` must
 * match exactly the labels of the series (order free).
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

/** Every label set a metric has in the text, e.g. to check which routes were seen. */
export function labelSets(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => line.slice(name.length + 1, line.indexOf('}')));
}

const PROMTOOL = '/usr/bin/promtool';

/**
 * `promtool check metrics` on the text: null when it passes, else its complaint. Returns
 * 'skipped' (after a loud warning) when promtool is not installed, except under CI=true, where
 * that fails the test: CI installs it (Debian package `prometheus`).
 */
export function promtoolCheck(text: string): string | null | 'skipped' {
  if (!toolAvailable({ path: PROMTOOL, skips: 'promtool check metrics', install: 'apt-get install -y prometheus' })) return 'skipped';
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return run.status === 0 ? null : `${run.stdout}${run.stderr}`.trim() || `exit ${run.status}`;
}
