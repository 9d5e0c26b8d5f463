import type { Socket } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { ProblemError, sendProblem } from './problem.js';

export interface IntakeAdmissionOptions {
  /** Request bytes this process takes in at once (declared Content-Length, or maxBodyBytes when undeclared). */
  budgetBytes: number;
  /** The body limit: what an undeclared (chunked) body may grow to, and the most one request can cost. */
  maxBodyBytes: number;
  /** Slack a body gets before it must keep pace with `bodyMinBytesPerS`; 0 turns the pace check off. */
  bodyTimeoutMs: number;
  /** The slowest average rate, from admission on, at which a body may arrive once its slack is used up. */
  bodyMinBytesPerS: number;
  /** Seconds a refused caller is told to wait. */
  retryAfterS?: number;
  /** Clock, for tests; default Date.now. */
  now?: () => number;
}

/** One admitted submission: what it costs the budget and how far its body has come. */
interface Holding {
  readonly tenant: string;
  readonly cost: number;
  readonly admittedAt: number;
  readonly socket: Socket;
  /** socket.bytesRead at admission: what arrived after it is this body's. */
  readonly bytesAtStart: number;
  readonly res: Response;
  bodyDone: boolean;
  released: boolean;
}

/**
 * Bounds the job lists being parsed and written at once. A 100,000-URL job costs about 13× its
 * body in heap while it is taken in, so a burst of large jobs would otherwise grow the api until
 * the heap limit kills it, with every other request in flight. A submission's cost is its
 * declared Content-Length (or the body limit when it declares none), held from admission until
 * its response is sent.
 *
 * Three rules keep one tenant from locking the others out of that budget:
 *
 * - **Fair share.** With n tenants active (holding budget, asking now, or refused within the
 *   last 2 × Retry-After), a tenant may hold at most max(budget / n, one body) while another
 *   tenant waits or when the budget is full: its first body is always allowed, a further one
 *   only within budget / n. Free room nobody waits for may be used by anyone, so a tenant
 *   alone may use the whole budget.
 * - **Pre-emption.** When a tenant's body does not fit and another tenant holds more than
 *   budget / n, the newest bodies of that tenant that are still arriving (nothing parsed,
 *   nothing written) are cut with 503 + Retry-After until the newcomer fits; a tenant keeps at
 *   least one body. Otherwise the newcomer gets the 503, before a byte of its body is read.
 * - **Minimum pace.** A body gets `bodyTimeoutMs` of slack; after that, by t ms since admission
 *   at least bodyMinBytesPerS × (t − bodyTimeoutMs) / 1000 of its bytes (or all of them) must
 *   have arrived, else it is cut with 408 and its budget freed. A socket trickling a byte a
 *   second cannot hold 52 MB of budget for longer than the slack.
 *
 * One request is always admitted when none is in flight, so a body larger than the budget still
 * gets through alone. The budget is per api process.
 */
export class IntakeAdmission {
  private readonly holdings = new Set<Holding>();
  private readonly heldByTenant = new Map<string, { bytes: number; count: number }>();
  /** Tenants refused recently, by when they stop counting as waiting. */
  private readonly waiting = new Map<string, number>();
  private inFlight = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly retryAfter: string;

  constructor(private readonly opts: IntakeAdmissionOptions) {
    this.now = opts.now ?? Date.now;
    this.retryAfter = String(opts.retryAfterS ?? 2);
  }

  /** Bytes held right now, for tests and metrics. */
  get heldBytes(): number {
    return this.inFlight;
  }

  readonly middleware: RequestHandler = (req, res, next) => {
    const tenant = req.tenant ?? 'anonymous';
    const declared = Number(req.get('content-length'));
    const cost = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, this.opts.maxBodyBytes) : this.opts.maxBodyBytes;
    const refusal = this.decide(tenant, cost);
    if (refusal) {
      this.discardRefusedBody(req);
      next(new ProblemError('unavailable', refusal, undefined, { 'retry-after': this.retryAfter }));
      return;
    }
    const holding = this.hold(tenant, cost, req, res);
    req.once('end', () => (holding.bodyDone = true));
    res.once('finish', () => this.release(holding));
    res.once('close', () => this.release(holding));
    next();
  };

  /**
   * Takes `bytes` for a job list the api itself downloads for `tenant` (a schedule run's
   * manifest, the same kind of list arriving by another door) under the same fairness rules;
   * the returned release gives them back, once. It has no socket to pace or cut.
   */
  reserve(tenant: string, bytes: number): () => void {
    const refusal = this.decide(tenant, bytes);
    if (refusal) throw new ProblemError('unavailable', refusal, undefined, { 'retry-after': this.retryAfter });
    this.take(tenant, bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give(tenant, bytes);
    };
  }

  /** Why the request may not come in now, or undefined when it may (then its room is made). */
  private decide(tenant: string, cost: number): string | undefined {
    const now = this.now();
    for (const [t, until] of this.waiting) if (until <= now) this.waiting.delete(t);
    if (this.inFlight === 0) return undefined;
    const active = new Set([...this.heldByTenant.keys(), ...this.waiting.keys(), tenant]);
    const share = this.opts.budgetBytes / active.size;
    const own = this.heldByTenant.get(tenant)?.bytes ?? 0;
    const fits = this.inFlight + cost <= this.opts.budgetBytes;
    // Over its share a tenant still uses free room nobody else is waiting for.
    const othersWait = [...this.waiting.keys()].some((t) => t !== tenant);
    if (own > 0 && active.size > 1 && own + cost > share && (othersWait || !fits)) {
      return 'This tenant already holds its share of the intake budget while other tenants use or wait for the rest; send it again after Retry-After.';
    }
    if (fits) return undefined;
    const victims = this.preemptable(tenant, share, this.inFlight + cost - this.opts.budgetBytes);
    if (victims) {
      for (const v of victims) this.cut(v, new ProblemError('unavailable', PREEMPTED, undefined, { 'retry-after': this.retryAfter }));
      return undefined;
    }
    this.waiting.set(tenant, now + 2_000 * Number(this.retryAfter));
    return 'The api is taking in other large jobs right now; send this one again after Retry-After.';
  }

  /**
   * Bodies still arriving of tenants over `share`, newest first, that free at least `needed`
   * bytes, each such tenant keeping one body; undefined when they cannot free enough.
   */
  private preemptable(asking: string, share: number, needed: number): Holding[] | undefined {
    const chosen: Holding[] = [];
    let freed = 0;
    const byTenant = new Map<string, Holding[]>();
    for (const h of this.holdings) {
      if (h.tenant === asking || h.released) continue;
      byTenant.set(h.tenant, [...(byTenant.get(h.tenant) ?? []), h]);
    }
    for (const [tenant, list] of byTenant) {
      let held = this.heldByTenant.get(tenant)?.bytes ?? 0;
      let kept = list.length;
      for (const h of list.filter((x) => !x.bodyDone).sort((a, b) => b.admittedAt - a.admittedAt)) {
        if (held <= share || kept <= 1 || freed >= needed) break;
        chosen.push(h);
        held -= h.cost;
        freed += h.cost;
        kept -= 1;
      }
    }
    return freed >= needed ? chosen : undefined;
  }

  private hold(tenant: string, cost: number, req: Request, res: Response): Holding {
    const holding: Holding = {
      tenant,
      cost,
      admittedAt: this.now(),
      socket: req.socket,
      bytesAtStart: req.socket.bytesRead,
      res,
      bodyDone: req.complete,
      released: false,
    };
    this.holdings.add(holding);
    this.take(tenant, cost);
    this.startPaceCheck();
    return holding;
  }

  private take(tenant: string, bytes: number): void {
    const mine = this.heldByTenant.get(tenant) ?? { bytes: 0, count: 0 };
    this.heldByTenant.set(tenant, { bytes: mine.bytes + bytes, count: mine.count + 1 });
    this.inFlight += bytes;
  }

  private give(tenant: string, bytes: number): void {
    this.inFlight -= bytes;
    const mine = this.heldByTenant.get(tenant);
    if (mine && mine.count > 1) this.heldByTenant.set(tenant, { bytes: mine.bytes - bytes, count: mine.count - 1 });
    else this.heldByTenant.delete(tenant);
  }

  private release(h: Holding): void {
    if (h.released) return;
    h.released = true;
    this.holdings.delete(h);
    this.give(h.tenant, h.cost);
    if (this.holdings.size === 0 && this.paceTimer) {
      clearInterval(this.paceTimer);
      this.paceTimer = undefined;
    }
  }

  /**
   * A refused body is never read into memory: Node discards it as it arrives once the 503 is
   * sent. The connection stays open meanwhile, because closing it under a client that is still
   * sending makes that client's next write fail (EPIPE) before it reads the 503 and its
   * Retry-After. A body not done within the slack a body gets (`bodyTimeoutMs`, else 5 s) has its
   * connection dropped.
   */
  private discardRefusedBody(req: Request): void {
    const drop = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, this.opts.bodyTimeoutMs || 5_000);
    drop.unref();
    req.once('end', () => clearTimeout(drop));
  }

  /** Answers a body that is still arriving, frees its budget at once, and closes its connection. */
  private cut(h: Holding, problem: ProblemError): void {
    this.release(h);
    const { res, socket } = h;
    if (res.headersSent) {
      socket.destroy();
      return;
    }
    res.set('connection', 'close');
    sendProblem(res, problem);
    // Node closes the connection after a `connection: close` response; a peer that keeps the
    // socket open without reading is dropped a moment later.
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  private startPaceCheck(): void {
    if (this.paceTimer || this.opts.bodyTimeoutMs <= 0) return;
    const every = Math.min(1_000, Math.max(50, Math.floor(this.opts.bodyTimeoutMs / 4)));
    this.paceTimer = setInterval(() => this.checkPace(), every);
    this.paceTimer.unref();
  }

  private checkPace(): void {
    const now = this.now();
    for (const h of [...this.holdings]) {
      if (h.bodyDone) continue;
      const late = now - h.admittedAt - this.opts.bodyTimeoutMs;
      if (late <= 0) continue;
      const due = Math.min(h.cost, (this.opts.bodyMinBytesPerS * late) / 1000);
      const received = h.socket.bytesRead - h.bytesAtStart;
      if (received >= due) continue;
      h.res.req.log?.warn({ tenant: h.tenant, declaredBytes: h.cost, receivedBytes: received }, 'intake body too slow: cut');
      this.cut(
        h,
        new ProblemError(
          'request-timeout',
          `The body arrived too slowly: ${received} bytes in ${Math.round((now - h.admittedAt) / 1000)} s; ` +
            `after ${this.opts.bodyTimeoutMs} ms a body must keep at least ${this.opts.bodyMinBytesPerS} bytes a second.`,
        ),
      );
    }
  }
}

const PREEMPTED =
  'Another tenant is waiting for intake and this tenant holds more than its share; this body was cut before it was read. Send it again after Retry-After.';

export function intakeAdmission(opts: IntakeAdmissionOptions): RequestHandler {
  return new IntakeAdmission(opts).middleware;
}
