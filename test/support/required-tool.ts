import { existsSync } from 'node:fs';

export interface RequiredTool {
  /** Absolute path of the executable the tests run. */
  path: string;
  /** What is not checked without it, for the warning. */
  skips: string;
  /** The command that installs it. */
  install: string;
}

/**
 * Whether a test tool is installed. On a developer machine a missing one is skipped after a loud
 * warning; under `CI=true` it throws, so a CI image that lost the tool fails the run instead of
 * passing with checks quietly left out.
 */
export function toolAvailable(tool: RequiredTool, env: NodeJS.ProcessEnv = process.env): boolean {
  if (existsSync(tool.path)) return true;
  const message = `${tool.path} not found: ${tool.skips}. Install it with: ${tool.install}`;
  if (env.CI === 'true') throw new Error(`${message} (CI=true: a missing test tool fails the run)`);
  console.warn(`\n*** ${message} — SKIPPED ***\n`);
  return false;
}
