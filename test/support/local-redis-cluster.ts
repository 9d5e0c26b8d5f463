import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer, stopRedisServer } from '../../scripts/lib/local-redis.js';
import { waitFor } from './wait-for.js';

/** A Redis Cluster of masters this process started on loopback ports, each with its own dir. */
export interface LocalRedisCluster {
  /** `127.0.0.1:port` of every master: the value of REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  /** Stops every node and removes their dirs. */
  stop(): Promise<void>;
}

export function redisClusterToolsAvailable(): boolean {
  const ok = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('redis-server') && ok('redis-cli');
}

interface Node {
  port: number;
  dir: string;
  child: ChildProcess;
}

async function startNode(port: number): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'batchscribe-cluster-'));
  const child = await spawnRedisServer([
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    '5000',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
  ]);
  return { port, dir, child };
}

async function stopNode(node: Node): Promise<void> {
  await stopRedisServer(node.child, 'SIGKILL');
  rmSync(node.dir, { recursive: true, force: true });
}

/**
 * Starts `masters` cluster-enabled `redis-server`s, joins them with `redis-cli --cluster
 * create` (no replicas) and waits until every node reports `cluster_state:ok`.
 */
export async function startLocalRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const nodes: Node[] = [];
  const stop = async () => {
    await Promise.all(nodes.map(stopNode));
  };
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startNode(await freePort()));
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed (${created.status}): ${created.stdout}${created.stderr}`);
    await waitFor(
      async () => {
        for (const n of nodes) {
          const probe = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            await probe.connect();
            const info = await probe.cluster('INFO');
            if (!/cluster_state:ok/.test(info)) return undefined;
          } finally {
            probe.disconnect();
          }
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'cluster_state:ok on every node' },
    );
    return { nodes: addresses, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
