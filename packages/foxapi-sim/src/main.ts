import { pino } from 'pino';
import { parseSimEnv, SimEnvError, unknownSimVariables, type SimEnv } from './env.js';
import { createFoxapiSimulator } from './simulator.js';

/** `pnpm sim`: the foxapi simulator as a standalone server, configured by `SIM_*` variables. */
const SHUTDOWN_DEADLINE_MS = 5_000;

// The simulator's keys are test fixtures, not secrets: the start line names them so a client
// can be pointed at it without reading the code.
const log = pino({ name: 'foxapi-sim' });

function readEnv(): SimEnv {
  try {
    return parseSimEnv(process.env);
  } catch (err) {
    if (!(err instanceof SimEnvError)) throw err;
    log.fatal({ variables: err.variables, reason: err.message }, 'invalid simulator environment');
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const env = readEnv();
  for (const { name, suggestion } of unknownSimVariables(process.env)) {
    log.warn({ variable: name, suggestion }, `unknown variable ${name} is ignored${suggestion ? `: did you mean ${suggestion}?` : ''}`);
  }
  const simulator = createFoxapiSimulator(env.options);
  const { url, port } = await simulator.listen(env.port, env.host);
  const { apiKeys, ...knobs } = simulator.settings();
  log.info({ url, host: env.host, port, apiKeys, knobs }, 'foxapi simulator listening');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'foxapi simulator stopping');
    const deadline = setTimeout(() => {
      log.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'foxapi simulator did not stop in time');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    simulator.close().then(
      () => {
        log.info('foxapi simulator stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'foxapi simulator failed to stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'foxapi simulator failed to start');
  process.exit(1);
});
