import express, { type RequestHandler, type Router } from 'express';
import {
  addLatency,
  answerWithFault,
  authenticate,
  capRate,
  deferredFault,
  injectFault,
  recordApiTraffic,
  recordDownloadTraffic,
} from './api.middleware.js';
import { sendError } from './errors.js';
import type { SimRuntime } from './runtime.js';
import { linkBaseUrl } from './link-base.js';
import { checkTranscriptionLink } from './signed-links.js';
import { parseSubmitRequest } from './submit-request.js';
import { entryKind } from './entries.js';
import { pollView, submitView } from './task-views.js';
import { isTerminal, taskStateAt, type SimTask } from './tasks.js';
import { transcriptionBody } from './transcripts.js';
import { uploadRoutes } from './upload.routes.js';

/** foxapi's API (`/v1/*`, Bearer auth, rate cap) and the signed transcription links. */
export function foxapiRoutes(runtime: SimRuntime): Router {
  const router = express.Router();
  router.use('/v1', recordApiTraffic(runtime), addLatency(runtime), authenticate(runtime), capRate(runtime));
  router.post(
    '/v1/audios/generations',
    injectFault(runtime, 'submit'),
    express.json({ limit: '1mb', type: 'application/json' }),
    submitTask(runtime),
  );
  router.get('/v1/tasks/:id', injectFault(runtime, 'poll'), pollTask(runtime));
  router.use(uploadRoutes(runtime));
  router.use('/v1', (_req, res) => sendError(res, 404, 'not_found', 'Unknown endpoint.'));
  router.get(
    '/transcriptions/:taskId/:file',
    recordDownloadTraffic(runtime),
    addLatency(runtime),
    injectFault(runtime, 'download'),
    downloadTranscription(runtime),
  );
  return router;
}

function submitTask(runtime: SimRuntime): RequestHandler {
  return (req, res) => {
    const parsed = parseSubmitRequest(req.body, Boolean(req.is('application/json')));
    if (!parsed.ok) {
      sendError(res, parsed.status, 'invalid_request_error', parsed.message);
      return;
    }
    const { config } = runtime;
    const task = runtime.tasks.create(
      parsed.request,
      {
        durationMs: config.taskDurationMs,
        estimatedTimeNoise: config.estimatedTimeNoise,
        failRate: config.failRate,
        shape: config.resultShape,
        transcriptMinutes: config.transcriptMinutes,
      },
      runtime.now(),
    );
    runtime.stats.taskCreated(task);
    if (config.fetchMedia) runtime.checkMedia(task);
    const fault = deferredFault(res);
    if (fault !== undefined) answerWithFault(runtime, res, fault);
    else res.json(submitView(task));
  };
}

function pollTask(runtime: SimRuntime): RequestHandler<{ id: string }> {
  // A terminal answer never changes for a given link base, and building one signs up to 100
  // links; caching the serialized body keeps 100k-poll benchmarks cheap. Weak, so reset frees it.
  const terminalBodies = new WeakMap<SimTask, { baseUrl: string; body: string }>();
  return (req, res) => {
    const task = runtime.tasks.get(req.params.id);
    if (task === undefined) {
      sendError(res, 404, 'not_found', 'Task not found.');
      return;
    }
    const now = runtime.now();
    const state = taskStateAt(task, now);
    task.polls += 1;
    if (task.detectedAt === null && isTerminal(state.status)) task.detectedAt = now;
    runtime.stats.pollAnswered();
    const baseUrl = linkBaseUrl(runtime, req);
    if (!isTerminal(state.status)) {
      res.json(pollView(task, state, baseUrl));
      return;
    }
    let cached = terminalBodies.get(task);
    if (cached?.baseUrl !== baseUrl) {
      cached = { baseUrl, body: JSON.stringify(pollView(task, state, baseUrl)) };
      terminalBodies.set(task, cached);
    }
    res.type('json').send(cached.body);
  };
}

/** Serves the transcription JSON of a succeeded entry. No auth: the link is signed, like DashScope's OSS URL. */
function downloadTranscription(runtime: SimRuntime): RequestHandler<{ taskId: string; file: string }> {
  return (req, res) => {
    const task = runtime.tasks.get(req.params.taskId);
    const index = Number(/^(\d+)\.json$/.exec(req.params.file)?.[1] ?? Number.NaN);
    const now = runtime.now();
    const fileUrl = task?.fileUrls[index];
    if (
      task === undefined ||
      fileUrl === undefined ||
      taskStateAt(task, now).status !== 'completed' ||
      entryKind(task, index) !== 'succeeded'
    ) {
      sendError(res, 404, 'not_found', 'Transcription not found.');
      return;
    }
    const link = checkTranscriptionLink(task.id, index, req.query as Record<string, unknown>, now);
    if (link !== 'valid') {
      const message = link === 'expired' ? 'Request has expired.' : 'The request signature does not match.';
      sendError(res, 403, 'access_denied', message);
      return;
    }
    runtime.stats.downloadAnswered();
    // Long bodies are cached Buffers: written as they are, never re-serialized per download.
    const chunks = transcriptionBody(fileUrl, task.transcriptMinutes);
    res
      .status(200)
      .type('json')
      .set('Content-Length', String(chunks.reduce((n, c) => n + c.length, 0)));
    for (const chunk of chunks.slice(0, -1)) res.write(chunk);
    res.end(chunks.at(-1));
  };
}
