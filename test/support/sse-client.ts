import { openApiContract } from './stack.js';

/** One Server-Sent Event, or a comment line (heartbeat) when `comment` is set. */
export interface SseEvent {
  event: string;
  data: string;
  comment?: string;
  at: number;
}

export interface SseResult {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** The raw body, for a response that is not a stream (a problem+json). */
  text: string;
}

/**
 * Reads an SSE response to its end (the server closes it) or until `timeoutMs`, parsing
 * events per the WHATWG format: `event:` and `data:` lines, blank line ends an event,
 * lines starting with `:` are comments. Like the Stack's request helper, it checks what the
 * api answers against the OpenAPI document: a refusal's problem+json, the stream's status and
 * headers, and the Job in every `job` and `end` event.
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  opts: { timeoutMs?: number; onEvent?: (e: SseEvent) => void } = {},
): Promise<SseResult> {
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const path = new URL(url).pathname;
  const contract = openApiContract();
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
    const text = await res.text();
    const body: unknown = /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
    contract.expectConformsIfDocumented('GET', path, { status: res.status, headers: res.headers, body, text });
    return { status: res.status, headers: res.headers, events: [], text };
  }
  contract.expectConformsIfDocumented('GET', path, { status: res.status, headers: res.headers, body: '', text: '' });
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const ev: SseEvent = { event: 'message', data: '', at: Date.now() };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) ev.comment = line.slice(1).trim();
        else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      ev.data = data.join('\n');
      if (contract.templateOf(path) !== undefined && (ev.event === 'job' || ev.event === 'end'))
        contract.expectSchema('Job', JSON.parse(ev.data));
      events.push(ev);
      opts.onEvent?.(ev);
    }
  }
  return { status: res.status, headers: res.headers, events, text: '' };
}
