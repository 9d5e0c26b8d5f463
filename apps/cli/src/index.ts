export { runCli } from './cli.js';
export type { CliIo, OutputStream } from './io.js';
export { EXIT, type ExitCode } from './exit-codes.js';
