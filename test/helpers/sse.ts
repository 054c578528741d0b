import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { onTestFinished } from 'vitest';

/** One event as a test reads it: type, id, and the data parsed as JSON. */
export interface SseEvent {
  event: string | undefined;
  id: string | undefined;
  data: Record<string, unknown>;
}

export interface SseStream {
  status: number;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Every comment line received so far (`ping` for a heartbeat). */
  comments: string[];
  /** Resolves with the first event (already received or still to come) that `match` accepts. */
  next(match: (e: SseEvent) => boolean, what?: string, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves at the first comment `match` accepts. */
  comment(match: (c: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ends the stream (rejects after `timeoutMs`). */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

interface Waiter {
  check(): boolean;
}

/**
 * Opens `/v1/events` (or any SSE URL) with fetch and reads its body through eventsource-parser.
 * Resolves once the server has written its first line (`retry:`), so the stream is following the
 * change log from then on; closed when the test ends.
 */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<Waiter>();
  let failure: Error | undefined;
  const wake = () => {
    for (const w of [...waiters]) if (w.check()) waiters.delete(w);
  };
  let started: () => void = () => {};
  const ready = new Promise<void>((resolve) => (started = resolve));
  const parser = createParser({
    onEvent(m: EventSourceMessage) {
      events.push({ event: m.event, id: m.id, data: JSON.parse(m.data) as Record<string, unknown> });
      wake();
    },
    onComment(c) {
      comments.push(c.trim());
      wake();
    },
    onRetry: () => started(),
  });
  const close = () => abort.abort();
  onTestFinished(close);
  let over = false;
  if (res.status !== 200 || !res.body)
    return { status: res.status, events, comments, next, comment, ended, close };

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      failure = new Error('the stream ended');
      over = true;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    started();
    wake();
  })();
  await ready;
  return { status: res.status, events, comments, next, comment, ended, close };

  function ended(timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`The stream was still open after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        check() {
          if (!over) return false;
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      if (!waiter.check()) waiters.add(waiter);
    });
  }

  function wait<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`No ${what} within ${timeoutMs} ms; received ${JSON.stringify(events)}`));
      }, timeoutMs);
      const waiter: Waiter = {
        check() {
          const found = find();
          if (found === undefined && !failure) return false;
          clearTimeout(timer);
          if (found !== undefined) resolve(found);
          else reject(new Error(`No ${what}: ${failure?.message}; received ${JSON.stringify(events)}`));
          return true;
        },
      };
      if (!waiter.check()) waiters.add(waiter);
    });
  }

  function next(match: (e: SseEvent) => boolean, what = 'matching event', timeoutMs = 10_000) {
    return wait(() => events.find(match), what, timeoutMs);
  }

  function comment(match: (c: string) => boolean, timeoutMs = 10_000) {
    return wait(() => comments.find(match), 'matching comment', timeoutMs);
  }
}
