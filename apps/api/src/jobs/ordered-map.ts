/**
 * Maps `items` through `fn` with up to `window` calls running at once, yielding the results in
 * input order. A consumer that stops early leaves at most `window` calls to finish on their own.
 */
export async function* orderedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  window: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const running: Promise<R>[] = [];
  const start = (item: T) => {
    const call = fn(item);
    // Rejections surface when the call's turn comes; until then they must not count as unhandled.
    call.catch(() => undefined);
    running.push(call);
  };
  for await (const item of items) {
    start(item);
    if (running.length >= window) yield await running.shift()!;
  }
  while (running.length > 0) yield await running.shift()!;
}
