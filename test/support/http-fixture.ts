import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One request the fixture received, body read in full. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Responder = (req: ReceivedRequest, res: ServerResponse, n: number) => void | Promise<void>;

/**
 * A real HTTP server on 127.0.0.1 (or another loopback alias such as 127.0.0.2, which the
 * outbound policy tests need) and a random port, standing in for a webhook receiver or a
 * manifest host. It records every request; `respond` decides each answer (n counts from 0).
 */
export class HttpFixture {
  readonly received: ReceivedRequest[] = [];
  private readonly open = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    public respond: Responder,
  ) {}

  static async start(respond: Responder = (_req, res) => void res.writeHead(204).end(), host = '127.0.0.1'): Promise<HttpFixture> {
    let fixture: HttpFixture | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const f = fixture!;
        const rec: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const n = f.received.push(rec) - 1;
        f.open.add(res);
        res.on('close', () => f.open.delete(res));
        void Promise.resolve(f.respond(rec, res, n)).catch(() => res.writeHead(599).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    fixture = new HttpFixture(server, `http://${host}:${port}`, respond);
    return fixture;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
