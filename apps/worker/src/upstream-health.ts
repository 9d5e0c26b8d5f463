import {
  isFoxapiError,
  type FoxapiClient,
  type FoxapiRequestEvent,
  type UpstreamHealthStore,
  type UpstreamProblem,
} from '@batchscribe/shared';
import type { Logger } from 'pino';

type Problem = Omit<UpstreamProblem, 'at'>;

/**
 * This worker's view of foxapi, from every request it makes: a request that gets no connection
 * (DNS, refused, connect timeout) or a refused key is a problem, reported to Redis at once and
 * refreshed by the heartbeat while it lasts; any other answer from foxapi clears it. The api
 * shows it on `/readyz` and as the jobs' `waiting_reason`.
 */
export class UpstreamHealth {
  private problem: Problem | null = null;
  private probing = false;

  constructor(
    private readonly workerId: string,
    private readonly store: UpstreamHealthStore,
    private readonly baseUrl: string,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** For the client's `onRequestEnd`. Result downloads go to other hosts and say nothing about foxapi. */
  readonly observe = (event: FoxapiRequestEvent): void => {
    if (event.route === 'download') return;
    if (event.unreachable) this.set({ code: 'upstream_unreachable', message: this.unreachableMessage(event.errorCode, event.host) });
    else if (event.errorKind === 'auth') this.set({ code: 'upstream_auth', message: 'foxapi rejected FOXAPI_API_KEY (401).' });
    else if (event.status !== null) this.set(null);
  };

  /**
   * Called by the heartbeat: a lasting problem stays fresh for the api, and foxapi is asked
   * again (the free start check), so an idle worker notices it is back without waiting for a
   * job. Not awaited: an unanswering foxapi must not hold up the heartbeat.
   */
  async refresh(foxapi: FoxapiClient): Promise<void> {
    if (!this.problem) return;
    await this.store.report(this.workerId, { ...this.problem, at: this.clock() });
    if (this.probing) return;
    this.probing = true;
    foxapi
      .checkAccess()
      .catch(() => undefined)
      .finally(() => (this.probing = false));
  }

  async withdraw(): Promise<void> {
    await this.store.clear(this.workerId);
  }

  /**
   * The start check: one cheap authenticated request, so a wrong key or an unreachable foxapi is
   * said when the worker starts, not at the first job. Its outcome reaches `observe` too.
   */
  async checkAtStart(foxapi: FoxapiClient): Promise<Problem | null> {
    try {
      await foxapi.checkAccess();
      this.logger.info({ foxapi: this.baseUrl }, 'foxapi answers and accepts FOXAPI_API_KEY');
    } catch (err) {
      const detail = isFoxapiError(err) ? err.message : String(err);
      if (this.problem)
        this.logger.error({ foxapi: this.baseUrl, code: this.problem.code, err: detail }, `foxapi check failed: ${this.problem.message}`);
      else this.logger.warn({ foxapi: this.baseUrl, err: detail }, 'foxapi check at start did not succeed');
    }
    return this.problem;
  }

  private unreachableMessage(code: string | null, host: string): string {
    return `foxapi at ${this.baseUrl} is unreachable from the workers (${[code, host].filter(Boolean).join(' ')}).`;
  }

  private set(problem: Problem | null): void {
    const same = problem?.code === this.problem?.code && problem?.message === this.problem?.message;
    if (same) return;
    this.problem = problem;
    const write = problem ? this.store.report(this.workerId, { ...problem, at: this.clock() }) : this.store.clear(this.workerId);
    write.catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record foxapi health'));
  }
}
