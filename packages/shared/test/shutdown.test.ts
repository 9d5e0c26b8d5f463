import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { exitOnShutdownSignals } from '../src/process/shutdown.js';
import { capturedLogger } from '../../../test/support/captured-logger.js';

function setUp(stop: () => Promise<Record<string, unknown> | void>, deadlineMs = 5_000) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const log = capturedLogger();
  let exited: () => void = () => undefined;
  const exitedOnce = new Promise<void>((resolve) => (exited = resolve));
  exitOnShutdownSignals({
    name: 'svc',
    logger: log.logger,
    deadlineMs,
    deadlineMessage: 'deadline passed',
    stop,
    signals: signals as unknown as Pick<NodeJS.Process, 'on'>,
    exit: (code) => {
      exits.push(code);
      exited();
    },
  });
  return { signals, exits, log, exitedOnce };
}

describe('shutdown on signals', () => {
  it('when SIGTERM and then SIGINT arrive, then stop runs once and the process exits 0 with the stop fields logged', async () => {
    let stops = 0;
    const { signals, exits, log, exitedOnce } = setUp(async () => {
      stops += 1;
      return { drained: 3 };
    });
    signals.emit('SIGTERM');
    signals.emit('SIGINT');
    await exitedOnce;
    expect(stops).toBe(1);
    expect(exits).toEqual([0]);
    expect(log.lines().map((l) => l.msg)).toEqual(['svc draining', 'svc stopped']);
    expect(log.lines()[1]).toMatchObject({ drained: 3 });
  });

  it('when stop hangs past the deadline, then the process exits 1 with the deadline message', async () => {
    const { signals, exits, log, exitedOnce } = setUp(() => new Promise(() => undefined), 20);
    signals.emit('SIGTERM');
    await exitedOnce;
    expect(exits).toEqual([1]);
    expect(log.lines().map((l) => l.msg)).toContain('deadline passed');
  });

  it('when stop throws, then the process exits 1 and the failure is logged', async () => {
    const { signals, exits, log, exitedOnce } = setUp(async () => {
      throw new Error('quit refused');
    });
    signals.emit('SIGINT');
    await exitedOnce;
    expect(exits).toEqual([1]);
    expect(log.text()).toContain('quit refused');
  });
});
