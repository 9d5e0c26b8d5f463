/** How the file at one input index shows up in a completed task's `results`. */
export type EntryKind = 'succeeded' | 'failed' | 'unknown-shape' | 'absent';

/** The parts of a task that decide its entries: URL markers first, then the drawn failures. */
export interface EntrySource {
  readonly fileUrls: readonly string[];
  readonly failedFiles: ReadonlySet<number>;
}

export function entryKind(task: EntrySource, index: number): EntryKind {
  const url = task.fileUrls[index] ?? '';
  if (url.includes('sim-missing')) return 'absent';
  if (url.includes('sim-garbage')) return 'unknown-shape';
  if (task.failedFiles.has(index)) return 'failed';
  return 'succeeded';
}
