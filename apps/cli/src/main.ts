#!/usr/bin/env node
import { runCli } from './cli.js';

// `batchscribe … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Ctrl-C while a progress bar is drawn: end its line so the shell prompt starts clean.
process.once('SIGINT', () => {
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.exit(130);
});

process.exitCode = await runCli(process.argv.slice(2));
