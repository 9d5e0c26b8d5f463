import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DurabilityUnsupportedError } from '@batchscribe/shared';
import { freePort, redisServerAvailable, spawnRedisServer, stopRedisServer } from '../../scripts/lib/local-redis.js';
import { spawnTs } from '../../scripts/lib/processes.js';
import { capturedLogger } from '../support/captured-logger.js';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/*
 * REDIS_DURABILITY makes a submit claim (and the task id after it) durable before foxapi is
 * paid: WAIT for replicas, or WAITAOF for the AOF on disk. The Redis of these tests is one
 * server without replicas, so WAIT 0 passes at once, WAIT 1 can never be satisfied, and
 * WAITAOF exists only from Redis 7.2.
 */

const track = stopAfterEach();

/** How many times this Redis has run `command` (INFO commandstats). */
async function commandCalls(s: Stack, command: string): Promise<number> {
  const info = await s.redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

async function redisVersion(s: Stack): Promise<[number, number]> {
  const m = /redis_version:(\d+)\.(\d+)/.exec(await s.redis.info('server'));
  return [Number(m![1]), Number(m![2])];
}

describe('REDIS_DURABILITY', () => {
  it('when it is wait with REDIS_WAIT_REPLICAS=0, then every claim and every task id is followed by a WAIT, and the job completes', async () => {
    const s = track(await Stack.start({ worker: false }));
    await s.startWorker({ env: { REDIS_DURABILITY: 'wait', REDIS_WAIT_REPLICAS: '0' } });
    const before = await commandCalls(s, 'wait');
    const created = await s.submit({ file_urls: urls(250, 'wait0') });
    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('completed');
    expect(s.sim.stats().submissions).toBe(3);
    // One WAIT after each of the 3 claims and each of the 3 records (nothing else sends WAIT).
    expect((await commandCalls(s, 'wait')) - before).toBeGreaterThanOrEqual(6);
  });

  it('when it is wait with one replica attached, then every claim is acknowledged by the replica and the job completes', async () => {
    const master = new URL(process.env.REDIS_URL!);
    const local = ['127.0.0.1', 'localhost'].includes(master.hostname) && !master.password;
    if (!redisServerAvailable() || !local) return; // needs a redis-server to start as the harness Redis's replica
    const logs = capturedLogger();
    const s = track(await Stack.start({ worker: false, logger: logs.logger }));
    const online = async () => ((await s.redis.info('replication')).match(/state=online/g) ?? []).length;
    const replicasBefore = await online();
    // Its own data dir: a replica's first sync writes the master's snapshot there.
    const dir = mkdtempSync(join(tmpdir(), 'bs-replica-'));
    const replica = await spawnRedisServer([
      '--port',
      String(await freePort()),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--replicaof',
      master.hostname,
      master.port,
    ]);
    track({ stop: async () => (await stopRedisServer(replica, 'SIGTERM'), rmSync(dir, { recursive: true, force: true })) });
    // Attached and through its first full sync: only an online replica acknowledges a WAIT.
    await waitFor(async () => ((await online()) > replicasBefore ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the replica to be online',
    });
    await s.startWorker({
      env: { REDIS_DURABILITY: 'wait', REDIS_WAIT_REPLICAS: String(replicasBefore + 1), REDIS_WAIT_TIMEOUT_MS: '2000' },
    });
    const created = await s.submit({ file_urls: urls(150, 'replicated') });
    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('completed');
    expect(s.sim.stats().submissions).toBe(2);
    expect(logs.lines().filter((l) => String(l.msg).includes('durable'))).toEqual([]);
  });

  it('when the replicas it waits for never acknowledge, then no batch is submitted and the claim is released', async () => {
    const logs = capturedLogger();
    const s = track(await Stack.start({ worker: false, logger: logs.logger }));
    await s.startWorker({
      env: { REDIS_DURABILITY: 'wait', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100', FOXAPI_BACKOFF_BASE_MS: '200' },
    });
    const startWarning = logs.lines().find((l) => String(l.msg).startsWith('REDIS_WAIT_REPLICAS=1 but 0 replica(s) are connected'));
    expect(startWarning).toBeDefined();

    const created = await s.submit({ file_urls: urls(5, 'no-replica') });
    await waitFor(
      async () => (logs.lines().filter((l) => String(l.msg).startsWith('the claim was not made durable')).length >= 2 ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'two unconfirmed claims',
      },
    );
    expect(s.sim.stats().submissions).toBe(0);
    const record = await s.redis.hgetall(s.keys.batch(created.id, 0));
    expect(['queued', 'submitting']).toContain(record.state);
    await s.workers[0]!.close();
    s.workers.length = 0;
    const after = await s.redis.hgetall(s.keys.batch(created.id, 0));
    expect(after.state).toBe('queued');
    expect(after.claim).toBeUndefined();
    expect(await s.redis.scard(s.keys.inflight)).toBe(0);
    expect(s.sim.stats().submissions).toBe(0);
  });

  it('when it is waitaof, then the worker starts only on a Redis of at least 7.2 with the AOF on, and otherwise says why', async () => {
    const s = track(await Stack.start({ worker: false }));
    const [major, minor] = await redisVersion(s);
    const aof = /aof_enabled:1/.test(await s.redis.info('persistence'));
    const start = s.startWorker({ env: { REDIS_DURABILITY: 'waitaof' } });
    if (major < 7 || (major === 7 && minor < 2)) {
      await expect(start).rejects.toThrow(DurabilityUnsupportedError);
      await expect(start).rejects.toThrow(`REDIS_DURABILITY=waitaof needs Redis ≥ 7.2 (WAITAOF); this Redis is ${major}.${minor}`);
    } else if (!aof) {
      await expect(start).rejects.toThrow(/needs the AOF on \(appendonly yes\)/);
    } else {
      await expect(start).resolves.toBeDefined();
    }
  });

  it('when the worker process starts with waitaof on a Redis without it, then it exits 1 with one line saying why', async () => {
    const probe = track(await Stack.start({ worker: false }));
    const [major, minor] = await redisVersion(probe);
    if (major > 7 || (major === 7 && minor >= 2)) return; // this Redis has WAITAOF: the case cannot arise here
    const child = spawnTs('apps/worker/src/main.ts', {
      REDIS_URL: process.env.REDIS_URL!,
      QUEUE_PREFIX: probe.prefix,
      FOXAPI_API_KEY: 'sk-x',
      FOXAPI_BASE_URL: probe.simUrl,
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_DURABILITY: 'waitaof',
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `batchscribe-worker: REDIS_DURABILITY=waitaof needs Redis ≥ 7.2 (WAITAOF); this Redis is ${major}.${minor}. ` +
        'Use appendfsync always with REDIS_DURABILITY=none, or REDIS_DURABILITY=wait with replicas.',
    );
  });
});
