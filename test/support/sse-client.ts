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
 * lines starting with `:` are comments.
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
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
    return { status: res.status, headers: res.headers, events: [], text: await res.text() };
  }
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
      events.push(ev);
      opts.onEvent?.(ev);
    }
  }
  return { status: res.status, headers: res.headers, events, text: '' };
}
