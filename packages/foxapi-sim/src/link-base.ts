import type { Request } from 'express';
import type { SimRuntime } from './runtime.js';

/** `publicBaseUrl` when set, else what the client used to reach us (scheme, Host, mount path). */
export function linkBaseUrl(runtime: SimRuntime, req: Request): string {
  if (runtime.config.publicBaseUrl !== undefined) return runtime.config.publicBaseUrl;
  const host = req.get('host');
  if (host !== undefined) return `${req.protocol}://${host}${req.baseUrl}`;
  return runtime.listeningUrl ?? 'http://127.0.0.1';
}
