import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFoxapiSimulator, type FoxapiSimulator, type SimOptions } from '@batchscribe/foxapi-sim';

interface HeldRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The held submit's `file_urls`, once its body has arrived (it is never forwarded). */
  urls: string[] | undefined;
}

const SUBMIT_PATH = '/v1/audios/generations';

/**
 * The simulator's Express app behind our own HTTP server, so a test can see which submits
 * foxapi is answering right now and can hold new ones back: a held submit never reaches the
 * simulator (no task is created), it just hangs until `releaseHeld` drops or forwards it. A
 * test uses that to SIGKILL a worker at a moment where no submit foxapi has seen is in flight.
 */
export class SimFront {
  private inflightSubmits = 0;
  private hold = false;
  private held: HeldRequest[] = [];
  private constructor(
    readonly sim: FoxapiSimulator,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(opts: SimOptions): Promise<SimFront> {
    const sim = createFoxapiSimulator(opts);
    let front: SimFront | undefined;
    const server = createServer((req, res) => front!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    front = new SimFront(sim, server, `http://127.0.0.1:${port}`);
    return front;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const isSubmit = req.method === 'POST' && (req.url ?? '').startsWith(SUBMIT_PATH);
    if (isSubmit && this.hold) {
      const entry: HeldRequest = { req, res, urls: undefined };
      this.held.push(entry);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        try {
          entry.urls = (JSON.parse(body) as { file_urls?: string[] }).file_urls ?? [];
        } catch {
          entry.urls = [];
        }
      });
      req.on('error', () => undefined);
      return;
    }
    if (isSubmit) {
      this.inflightSubmits += 1;
      let counted = true;
      const done = () => {
        if (counted) this.inflightSubmits -= 1;
        counted = false;
      };
      res.once('finish', done);
      res.once('close', done);
      if (this.submitDelayMs > 0) {
        setTimeout(() => this.forward(req, res), this.submitDelayMs);
        return;
      }
    }
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    (this.sim.app as unknown as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
  }

  /** Extra time a submit spends in flight before the simulator sees it (0 = none). */
  submitDelayMs = 0;

  /** Submits the simulator has received and not finished answering. */
  get submitsInFlight(): number {
    return this.inflightSubmits;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** URLs of each held submit (undefined while its body is still arriving). */
  heldUrls(): Array<string[] | undefined> {
    return this.held.map((h) => h.urls);
  }

  holdSubmits(): void {
    this.hold = true;
  }

  /** Stops holding; held submits are dropped (their sockets destroyed), never shown to foxapi. */
  dropHeld(): number {
    this.hold = false;
    const n = this.held.length;
    for (const { req, res } of this.held) {
      res.destroy();
      req.destroy();
    }
    this.held = [];
    return n;
  }

  async close(): Promise<void> {
    this.dropHeld();
    await this.sim.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
