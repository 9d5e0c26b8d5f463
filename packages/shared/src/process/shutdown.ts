import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** `api` or `worker`: the draining and stopped lines say which process it was. */
  name: string;
  logger: Logger;
  /** After this long the process exits 1 whatever is still open. */
  deadlineMs: number;
  /** Logged when the deadline passes: what happens to the work left unfinished. */
  deadlineMessage: string;
  /** Releases everything the composition root made, in order; what it returns goes on the stopped line. */
  stop: () => Promise<Record<string, unknown> | void>;
  /** Seams for the helper's own test: which emitter gives the signals, and how the process ends. */
  signals?: Pick<NodeJS.Process, 'on'>;
  exit?: (code: number) => void;
}

export interface Shutdown {
  /** Drains once, however many signals arrive; resolves after `exit` was called. */
  (signal: string): Promise<void>;
}

/**
 * SIGTERM and SIGINT drain the process once: `stop` runs under a deadline, then the process
 * exits 0 (or 1 when `stop` throws or the deadline passes first). Both apps' main.ts use it.
 */
export function exitOnShutdownSignals(opts: ShutdownOptions): Shutdown {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const shutdown: Shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal }, `${opts.name} draining`);
    const deadline = setTimeout(() => {
      opts.logger.error(opts.deadlineMessage);
      exit(1);
    }, opts.deadlineMs);
    deadline.unref();
    try {
      const fields = await opts.stop();
      clearTimeout(deadline);
      opts.logger.info(fields ?? {}, `${opts.name} stopped`);
      exit(0);
    } catch (err) {
      clearTimeout(deadline);
      opts.logger.error({ err }, `${opts.name} shutdown failed`);
      exit(1);
    }
  };
  const signals = opts.signals ?? process;
  signals.on('SIGTERM', () => void shutdown('SIGTERM'));
  signals.on('SIGINT', () => void shutdown('SIGINT'));
  return shutdown;
}
