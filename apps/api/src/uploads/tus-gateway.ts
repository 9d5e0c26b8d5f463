import type { Request, Response } from 'express';
import { Server } from '@tus/server';
import type { DataStore, Locker } from '@tus/utils';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { ProblemError, type ProblemType } from '../http/problem.js';
import { UploadNaming } from './upload-naming.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by the creation route: the id the tus store names the new upload by. */
      newUploadId?: string;
    }
  }
}

export const TUS_PATH = '/v1/uploads';

/** tus's own refusals, as problem types; tus-js-client reads only the status, so the body may be ours. */
const PROBLEM_OF_STATUS: Record<number, ProblemType> = {
  400: 'malformed-request',
  403: 'malformed-request',
  404: 'not-found',
  409: 'conflict',
  // An upload past its expiry: tus allows 404 or 410; the api's problem types have no 410.
  410: 'not-found',
  412: 'precondition-failed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/** Headers of tus's answers the caller needs on an error too. */
const KEPT_HEADERS = ['tus-resumable', 'tus-version', 'tus-extension', 'tus-max-size', 'upload-offset', 'upload-length', 'upload-expires'];

/**
 * The tus 1.0.0 server (`@tus/server`) behind our own routes: they authenticate, check the
 * tenant and the request, then hand it here. tus answers with a web Response; its errors are
 * turned into problem+json like every other error of the api.
 */
export class TusGateway {
  private readonly server: Server;

  constructor(deps: { datastore: DataStore; locker: Locker; naming: UploadNaming; maxBytes: number }) {
    const { naming } = deps;
    this.server = new Server({
      path: TUS_PATH,
      datastore: deps.datastore,
      locker: deps.locker,
      maxSize: deps.maxBytes,
      // No CORS headers: the api is not called from browsers of other origins.
      allowedOrigins: [],
      namingFunction: (req) => {
        const id = (req.runtime?.node?.req as Request | undefined)?.newUploadId;
        if (!id) throw new Error('upload created without an id from the route');
        return naming.storeIdOf(id);
      },
      generateUrl: (_req, { id }) => `${TUS_PATH}/${naming.uploadIdOf(id)}`,
      getFileIdFromRequest: (_req, last) => {
        const id = UploadNaming.parse(last);
        return id === undefined ? undefined : naming.storeIdOf(id);
      },
    });
  }

  /** Hands one request to tus and sends its answer (a problem+json when tus refused it). */
  async handle(req: Request, res: Response): Promise<void> {
    const response = await this.server.handleWeb(new NodeRequest({ req, res }));
    if (response.status < 400) {
      await sendNodeResponse(res, response);
      return;
    }
    const detail = (await response.text()).trim() || `tus refused the request (${response.status}).`;
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    if (response.headers.get('connection') === 'close') headers.connection = 'close';
    // A lock not had in time: another request is still writing this upload; tus clients retry a 409.
    if (/lock/i.test(detail) && response.status === 500)
      throw new ProblemError('conflict', 'Another request is writing this upload; send it again.', undefined, headers);
    throw new ProblemError(PROBLEM_OF_STATUS[response.status] ?? 'internal', detail, undefined, headers);
  }
}
