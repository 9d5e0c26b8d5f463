import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: string;
  cpu: string;
  memory: string;
  node: string;
  redis: string;
  platform: string;
}

function sh(cmd: string): string | null {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** What the README's Performance section states next to the table. */
export function machineInfo(redisVersion: string): MachineInfo {
  const free = sh('free -h');
  const memLine = free?.split('\n').find((l) => l.startsWith('Mem:'));
  return {
    nproc: sh('nproc') ?? String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: memLine ? `free -h: ${memLine.replace(/\s+/g, ' ')}` : `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    redis: redisVersion,
    platform: `${process.platform} ${process.arch}`,
  };
}
