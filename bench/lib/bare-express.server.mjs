// The read-path baseline: Express with one route answering a constant JSON body the size of
// the api's Job, serialized per request as the api's `res.json(job)` is, and nothing else.
// Plain JavaScript run by plain Node, like the built api it is compared with. Express is
// loaded from the api package, so it is the very Express the api runs (not a root dependency).
// BODY_FILE: the JSON to answer; PORT: where to listen (127.0.0.1).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const express = createRequire(new URL('../../apps/api/package.json', import.meta.url))('express');
const body = JSON.parse(readFileSync(process.env.BODY_FILE ?? '', 'utf8'));
const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.get('/v1/jobs/:id', (_req, res) => res.json(body));
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('bare server listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
