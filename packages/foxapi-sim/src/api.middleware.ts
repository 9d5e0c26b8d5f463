import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { FaultRule } from './config.js';
import { sendError, sendKnownError } from './errors.js';
import type { FaultRoute } from './faults.js';
import type { SimRuntime } from './runtime.js';

/** Set on `res.locals` for `/v1/*` requests, whose answers count in `requests`/`byStatus`. */
const API_REQUEST = 'foxapiSimApiRequest';
/** Set on `res.locals` when a `createTaskAnyway` fault waits for the submit handler. */
const DEFERRED_FAULT = 'foxapiSimDeferredFault';

/** Counts every `/v1/*` request and, once answered, its status. */
export function recordApiTraffic(runtime: SimRuntime): RequestHandler {
  return (_req, res, next) => {
    runtime.stats.apiRequestReceived();
    res.locals[API_REQUEST] = true;
    res.once('finish', () => {
      runtime.stats.apiRequestAnswered(res.statusCode);
      if (res.statusCode === 429) runtime.stats.rateLimitAnswered();
    });
    next();
  };
}

/** Counts what the transcription route must watch: leaked API keys and 429s. */
export function recordDownloadTraffic(runtime: SimRuntime): RequestHandler {
  return (req, res, next) => {
    if (req.headers.authorization !== undefined) runtime.stats.downloadCarriedAuth();
    res.once('finish', () => {
      if (res.statusCode === 429) runtime.stats.rateLimitAnswered();
    });
    next();
  };
}

export function addLatency(runtime: SimRuntime): RequestHandler {
  return (_req, _res, next) => {
    const { latencyMs } = runtime.config;
    if (latencyMs > 0) runtime.open.delay(latencyMs, () => next());
    else next();
  };
}

export function authenticate(runtime: SimRuntime): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const key = match?.[1];
    if (key !== undefined && runtime.config.apiKeys.has(key)) {
      next();
      return;
    }
    const message = key === undefined ? 'Missing API key.' : 'Invalid API key.';
    sendError(res, 401, 'authentication_error', message);
  };
}

/** The `maxRps` cap; a 429 from it carries no Retry-After, as foxapi documents none. */
export function capRate(runtime: SimRuntime): RequestHandler {
  return (_req, res, next) => {
    if (runtime.rateCap.tryAcquire(runtime.now())) {
      next();
      return;
    }
    sendError(res, 429, 'rate_limit_error', 'Rate limit exceeded. Please retry later.');
  };
}

/**
 * Answers with the first matching fault rule. A submit rule with `createTaskAnyway` is handed
 * to the submit handler instead, which creates the task first and then answers with it.
 */
export function injectFault(runtime: SimRuntime, route: FaultRoute): RequestHandler {
  return (_req, res, next) => {
    const fault = runtime.faults.take(route);
    if (fault === undefined) {
      next();
      return;
    }
    runtime.stats.faultInjected();
    if (route === 'submit' && fault.createTaskAnyway === true) {
      res.locals[DEFERRED_FAULT] = fault;
      next();
      return;
    }
    answerWithFault(runtime, res, fault);
  };
}

export function deferredFault(res: Response): FaultRule | undefined {
  return res.locals[DEFERRED_FAULT] as FaultRule | undefined;
}

/** Status 0 hangs: the response stays open until the client aborts or the simulator closes. */
export function answerWithFault(runtime: SimRuntime, res: Response, fault: FaultRule): void {
  if (fault.status === 0) {
    if (res.locals[API_REQUEST] === true) runtime.stats.apiRequestAnswered(0);
    runtime.open.hang(res);
    return;
  }
  sendKnownError(res, fault.status, fault.retryAfterS);
}

/** Express 5 forwards body-parser failures here; anything else is a simulator bug → 500. */
export function handleErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') {
    sendError(res, 400, 'invalid_request_error', 'The request body is not valid JSON.');
    return;
  }
  if (type === 'entity.too.large') {
    sendError(res, 413, 'invalid_request_error', 'The request body is too large.');
    return;
  }
  sendError(res, 500, 'server_error', err instanceof Error ? err.message : 'Unexpected simulator error.');
}
