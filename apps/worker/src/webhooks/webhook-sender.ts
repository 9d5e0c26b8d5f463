import { request, type Dispatcher } from 'undici';
import { Webhook } from 'standardwebhooks';
import { describeOutboundFailure } from '@batchscribe/shared';

/** What one POST to a callback_url came to. */
export type SendResult =
  | { kind: 'delivered'; status: number }
  /** 410 Gone: the receiver asks never to be called again for this. */
  | { kind: 'gone'; status: number }
  /** `error` is for the tenant; `detail` (the low-level error, addresses and all) only for the logs. */
  | { kind: 'failed'; status: number | null; error: string; detail?: string };

export interface WebhookSenderOptions {
  /** `whsec_…`; without it nothing is sent and every attempt fails with a reason that says so. */
  secret: string | undefined;
  /** Whole request, connect to response headers. */
  timeoutMs: number;
  /**
   * The outbound Agent (createOutboundAgent), which checks the address each connection dials.
   * `request` follows no redirects: a receiver cannot bounce a delivery somewhere internal.
   */
  dispatcher: Dispatcher;
  clock?: () => Date;
}

/**
 * Signs per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`)
 * with the `standardwebhooks` library and POSTs. The timestamp is the attempt's, not the
 * event's: receivers reject stale timestamps to stop replays, and a retry hours later must
 * still be accepted. The id stays the same on every attempt so receivers can deduplicate.
 */
export class WebhookSender {
  private readonly signer: Webhook | null;
  private readonly clock: () => Date;

  constructor(private readonly opts: WebhookSenderOptions) {
    this.signer = opts.secret ? new Webhook(opts.secret) : null;
    this.clock = opts.clock ?? (() => new Date());
  }

  async send(url: string, webhookId: string, payload: string): Promise<SendResult> {
    if (!this.signer) return { kind: 'failed', status: null, error: 'the worker has no WEBHOOK_SECRET to sign webhooks with' };
    const now = this.clock();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'batchscribe-webhooks',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer.sign(webhookId, now, payload),
    };
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        dispatcher: this.opts.dispatcher,
      });
      // The answer's body means nothing to us; read a little so the connection can be reused.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode <= 299) return { kind: 'delivered', status: res.statusCode };
      if (res.statusCode === 410) return { kind: 'gone', status: 410 };
      return { kind: 'failed', status: res.statusCode, error: `the receiver answered HTTP ${res.statusCode}` };
    } catch (err) {
      return { kind: 'failed', status: null, error: describe(err, this.opts.timeoutMs), detail: (err as Error).message };
    }
  }
}

/** The tenant reads this on the job: what the receiver did, never the socket error (which names addresses). */
function describe(err: unknown, timeoutMs: number): string {
  const failure = describeOutboundFailure(err);
  return failure === 'timed out' ? `no answer within ${timeoutMs} ms` : `the receiver could not be reached: ${failure}`;
}
