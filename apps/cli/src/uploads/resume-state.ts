import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CACHE_HOME/batchscribe`, else `~/.cache/batchscribe`: what `submit --resume` remembers between runs. */
export function cacheDir(env: Env): string {
  const base = env.XDG_CACHE_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.cache');
  return join(base, 'batchscribe');
}

/** What tus-js-client stores per upload so a later run finds it again (its `PreviousUpload`). */
export interface StoredUpload {
  size: number | null;
  metadata: Record<string, string>;
  creationTime: string;
  uploadUrl: string | null;
  parallelUploadUrls: string[] | null;
  urlStorageKey: string;
}

const storedUploadSchema = z.looseObject({
  size: z.number().nullable().default(null),
  metadata: z.record(z.string(), z.string()).default({}),
  creationTime: z.string().default(''),
  uploadUrl: z.string().nullable().default(null),
  parallelUploadUrls: z.array(z.string()).nullable().default(null),
});

/** Entries older than this are dropped: the server deletes an upload no job used within a day (UPLOAD_TTL_S). */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * tus-js-client's URL storage, one small file per fingerprint under `<cache>/uploads/`, so that
 * parallel uploads never contend for one file and a kill leaves at worst one entry unwritten
 * (written to a temporary name, then renamed). The newest upload of a fingerprint replaces the
 * one before. File names are the fingerprint's SHA-256: the fingerprint holds paths.
 */
export class UploadUrlStore {
  private readonly dir: string;

  constructor(
    cache: string,
    /** A store that cannot be written must not stop an upload (tus-js-client would wait forever on a rejected save): it is reported here. */
    private readonly onWriteError: (err: unknown) => void = () => undefined,
  ) {
    this.dir = join(cache, 'uploads');
  }

  async findAllUploads(): Promise<StoredUpload[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const found = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -5))));
    return found.flat();
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<StoredUpload[]> {
    return this.read(keyOf(fingerprint));
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    await unlink(join(this.dir, `${urlStorageKey}.json`)).catch(() => undefined);
  }

  async addUpload(fingerprint: string, upload: Omit<StoredUpload, 'urlStorageKey'>): Promise<string> {
    const key = keyOf(fingerprint);
    await writeAtomic(this.dir, `${key}.json`, JSON.stringify(upload)).catch(this.onWriteError);
    return key;
  }

  /** Removes entries older than a week (best effort: a cache). */
  prune(now: number): Promise<void> {
    return pruneOlderThan(this.dir, now - MAX_AGE_MS);
  }

  private async read(key: string): Promise<StoredUpload[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, `${key}.json`), 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = storedUploadSchema.safeParse(JSON.parse(text));
      return parsed.success ? [{ ...parsed.data, urlStorageKey: key }] : [];
    } catch {
      return []; // a damaged entry is a cache miss: the file is uploaded again
    }
  }
}

/** A submission `--resume` can continue: the idempotency key its job is (or will be) created with, and the job once it is. */
export interface SubmissionRecord {
  key: string;
  job_id?: string;
}

const submissionSchema = z.looseObject({ key: z.string().min(1), job_id: z.string().optional() });

/** One record per input digest under `<cache>/submissions/`. */
export class SubmissionStore {
  private readonly dir: string;

  constructor(cache: string) {
    this.dir = join(cache, 'submissions');
  }

  async get(digest: string): Promise<SubmissionRecord | undefined> {
    try {
      const parsed = submissionSchema.safeParse(JSON.parse(await readFile(join(this.dir, `${digest}.json`), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async put(digest: string, record: SubmissionRecord): Promise<void> {
    await writeAtomic(this.dir, `${digest}.json`, JSON.stringify(record));
  }

  /** Removes records older than a week: their uploads are gone from the server by then. */
  prune(now: number): Promise<void> {
    return pruneOlderThan(this.dir, now - MAX_AGE_MS);
  }
}

async function pruneOlderThan(dir: string, cutoff: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await unlink(path).catch(() => undefined);
  }
}

function keyOf(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex');
}

async function writeAtomic(dir: string, name: string, content: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, join(dir, name));
}
