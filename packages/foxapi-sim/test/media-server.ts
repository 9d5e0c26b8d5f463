import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MediaServer {
  url: string;
  /** Every request received, with its Range header. */
  requests: Array<{ path: string; range: string | undefined }>;
  close(): Promise<void>;
}

/**
 * A stand-in for the web servers media URLs point at: `/ok/*` answers 200 with `body`,
 * `/range/*` answers 206 to a Range request, `/missing/*` 404, `/private/*` 403 and `/slow/*`
 * never answers.
 */
export async function startMediaServer(body: Buffer = Buffer.alloc(4096, 7)): Promise<MediaServer> {
  const requests: MediaServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range });
    if (path.startsWith('/ok/')) {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length }).end(body);
    } else if (path.startsWith('/range/') && req.headers.range !== undefined) {
      const part = body.subarray(0, 1024);
      res.writeHead(206, { 'content-range': `bytes 0-1023/${body.length}`, 'content-length': part.length }).end(part);
    } else if (path.startsWith('/private/')) {
      res.writeHead(403).end('forbidden');
    } else if (path.startsWith('/slow/')) {
      // Left open: the fetcher's timeout has to end it.
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
