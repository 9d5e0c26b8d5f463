import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir`, relative, sorted: what a folder of results holds. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
