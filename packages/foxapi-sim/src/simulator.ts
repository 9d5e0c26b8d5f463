import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { buildApp } from './app.js';
import { effectiveSettings, type EffectiveSettings, type SimOptions } from './config.js';
import { SimRuntime } from './runtime.js';
import type { SimStats } from './stats.js';

export interface FoxapiSimulator {
  /** The Express app, mountable into another server. */
  readonly app: Express;
  /** Starts listening; port 0 (default) picks a free port, host defaults to 127.0.0.1. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops listening and ends held (hung or delayed) requests and open connections. */
  close(): Promise<void>;
  stats(): SimStats;
  /** Every knob's value in force, unset ones as null. */
  settings(): EffectiveSettings;
  /** Clears tasks, stats and the rate window and restarts the RNGs; config and faults stay. */
  reset(): void;
  /** Changes options at runtime; a key set to `undefined` returns to its default. */
  configure(patch: Partial<SimOptions>): void;
}

export function createFoxapiSimulator(opts: SimOptions = {}): FoxapiSimulator {
  const runtime = new SimRuntime(opts);
  const app = buildApp(runtime);
  let server: Server | undefined;

  return {
    app,
    async listen(port = 0, host = '127.0.0.1') {
      if (server !== undefined) throw new Error('the simulator is already listening');
      const started = createServer(app);
      server = started;
      try {
        await new Promise<void>((resolve, reject) => {
          started.once('error', reject);
          started.listen(port, host, () => {
            started.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        server = undefined;
        throw err;
      }
      const bound = (started.address() as AddressInfo).port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
      runtime.listeningUrl = url;
      return { url, port: bound };
    },
    async close() {
      runtime.open.closeAll();
      runtime.media.abortAll();
      await runtime.uploads.dispose();
      const stopping = server;
      server = undefined;
      runtime.listeningUrl = undefined;
      if (stopping === undefined) return;
      await new Promise<void>((resolve, reject) => {
        stopping.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive and hung sockets would otherwise hold close() open indefinitely.
        stopping.closeAllConnections();
      });
    },
    stats: () => runtime.snapshot(),
    settings: () => effectiveSettings(runtime.config),
    reset: () => runtime.reset(),
    configure: (patch) => runtime.configure(patch),
  };
}
