import { connect, type Socket } from 'node:net';

/** What a trickling client got back: the status line's code, headers and body as text. */
export interface TrickleAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw TCP client that sends a POST's head with a declared Content-Length, then its body a
 * few bytes at a time, as a slow (or hostile) uploader would. `answer` resolves with the
 * server's response once the server closes the connection (or has sent a whole response).
 */
export class TrickleSocket {
  readonly answer: Promise<TrickleAnswer>;
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  private constructor(
    private readonly socket: Socket,
    answer: Promise<TrickleAnswer>,
  ) {
    this.answer = answer;
  }

  /**
   * Opens the connection and sends the head; then `chunkBytes` (default 1) every `everyMs`: of
   * `body` when given, until it is all sent, else spaces that never complete the declared length.
   */
  static async open(
    apiUrl: string,
    opts: { path?: string; token: string; declaredBytes: number; everyMs: number; chunkBytes?: number; body?: string },
  ): Promise<TrickleSocket> {
    const url = new URL(opts.path ?? '/v1/jobs', apiUrl);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let raw = '';
    socket.setEncoding('utf8');
    const answer = new Promise<TrickleAnswer>((resolve) => {
      const done = () => resolve(parseResponse(raw));
      socket.on('data', (chunk: string) => {
        raw += chunk;
        const parsed = parseResponse(raw);
        const length = Number(parsed.headers['content-length'] ?? NaN);
        if (parsed.status > 0 && Number.isFinite(length) && Buffer.byteLength(parsed.body) >= length) done();
      });
      socket.on('close', done);
      socket.on('error', () => undefined);
    });
    socket.write(
      `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${opts.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${opts.declaredBytes}\r\n\r\n`,
    );
    const client = new TrickleSocket(socket, answer);
    const chunk = opts.chunkBytes ?? 1;
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    client.timer = setInterval(() => {
      if (socket.destroyed) return;
      if (body) {
        if (client.sent >= body.length) return;
        socket.write(body.subarray(client.sent, client.sent + chunk));
        client.sent = Math.min(body.length, client.sent + chunk);
        return;
      }
      if (client.sent + chunk >= opts.declaredBytes) return;
      socket.write(' '.repeat(chunk));
      client.sent += chunk;
    }, opts.everyMs);
    void answer.finally(() => client.close());
    return client;
  }

  get bytesSent(): number {
    return this.sent;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.destroy();
  }
}

function parseResponse(raw: string): TrickleAnswer {
  const cut = raw.indexOf('\r\n\r\n');
  if (cut < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine, ...lines] = raw.slice(0, cut).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: raw.slice(cut + 4) };
}
