import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseStream {
  /** Resolves once the response headers arrived (rejects on a non-200 answer). */
  opened: Promise<void>;
  close(): void;
  /** Resolves when the stream ends (closed by either side). */
  ended: Promise<void>;
}

/** Follows an SSE endpoint with fetch, calling `onEvent` per event (benchmarks and tests). */
export function followSse(
  url: string,
  headers: Record<string, string>,
  onEvent: (e: EventSourceMessage) => void,
): SseStream {
  const abort = new AbortController();
  let opened!: (v: void) => void;
  let failed!: (e: Error) => void;
  const openedP = new Promise<void>((res, rej) => {
    opened = res;
    failed = rej;
  });
  const ended = (async () => {
    try {
      const res = await fetch(url, { headers, signal: abort.signal });
      if (res.status !== 200 || !res.body) {
        failed(new Error(`${url} answered ${res.status}: ${await res.text()}`));
        return;
      }
      opened();
      const parser = createParser({ onEvent });
      const decoder = new TextDecoder();
      // Node's web stream is async-iterable (the DOM lib's type, loaded by preact's JSX types, is not).
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (err) {
      if (!abort.signal.aborted) failed(err as Error);
    }
  })();
  return { opened: openedP, close: () => abort.abort(), ended };
}
