import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import { basicAuth } from './basic-auth.js';
import { withoutExternalFonts } from './offline-page.js';

export const DASHBOARD_PATH = '/admin/queues';

export interface DashboardOptions {
  /** ADMIN_TOKEN: the HTTP Basic password. */
  token: string;
  /** The queues to show, in this order (batches first; webhooks when that queue exists). */
  queues: readonly Queue[];
  /** ADMIN_READ_ONLY (default true): no retry, clean, pause or remove buttons. */
  readOnly: boolean;
}

/** The operator dashboard (bull-board) behind HTTP Basic; mount only when ADMIN_TOKEN is set. */
export function dashboardRoutes(opts: DashboardOptions): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: opts.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: opts.readOnly, allowRetries: !opts.readOnly })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'batchscribe' } },
  });
  const router = Router();
  router.use(DASHBOARD_PATH, basicAuth(opts.token, 'batchscribe admin'), withoutExternalFonts(), adapter.getRouter() as Router);
  return router;
}
