import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ConfigClientUnavailableError, type ConfigHttp } from './http.js';
import type { WireFlagEvent } from '../wire.js';
import { isFields, readChange, readFlagEvent, type ChangeData } from './read-wire.js';

export interface StreamHandlers {
  /** The server accepted the stream. */
  open(): void;
  /** A first event or ping arrived: the connection is healthy. */
  healthy(): void;
  change(change: ChangeData): void;
  flag(event: WireFlagEvent): void;
  checkpoint(seq: number): void;
  warn(message: string): void;
}

/** Why a stream ended without an error: the server closed it, or asked for a fresh snapshot. */
export type StreamEnd = { kind: 'ended' } | { kind: 'resync'; seq: number };

/**
 * Follows `/v1/events` after `lastEventId` until the server closes it (resolves), asks for a
 * resync (resolves; the caller fetches the snapshot), or it fails, stays silent for
 * `idleTimeoutMs` (a half-open connection) or `signal` aborts (rejects).
 */
export async function followEvents(
  http: ConfigHttp,
  lastEventId: number,
  signal: AbortSignal,
  idleTimeoutMs: number,
  on: StreamHandlers,
): Promise<StreamEnd> {
  const idle = new AbortController();
  const both = AbortSignal.any([signal, idle.signal]);
  let watchdog: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => idle.abort(), idleTimeoutMs);
    watchdog.unref();
  };

  let resync: number | undefined;
  let healthy = false;
  // Healthy once the server sends an event or a ping, not merely accepts the connection (the
  // API's first line is a `retry:` hint): a server that accepts and drops keeps backing off.
  const alive = (): void => {
    if (healthy) return;
    healthy = true;
    on.healthy();
  };
  const parser = createParser({
    onEvent: (message) => {
      alive();
      if (resync === undefined) resync = dispatch(message, on);
    },
    onComment: alive,
    onError: (err) => on.warn(`Ignored a malformed line on the event stream: ${err.message}`),
  });

  try {
    arm();
    const res = await http.events(lastEventId, both);
    on.open();
    const body = res.body;
    if (!body) throw new ConfigClientUnavailableError('GET /v1/events answered with no body');
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { kind: 'ended' };
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
        if (resync !== undefined) return { kind: 'resync', seq: resync };
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  } catch (err) {
    if (idle.signal.aborted && !signal.aborted)
      throw new ConfigClientUnavailableError(`the event stream sent nothing for ${idleTimeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(watchdog);
  }
}

const STREAM_EVENTS = new Set(['change', 'flag', 'checkpoint', 'resync']);

/**
 * Hands one event to its handler; returns the seq of a resync, which ends the stream. An event
 * whose data is not what the API sends is skipped with a warning, and still moves the position
 * when its id is valid: otherwise every reconnect would replay it again.
 */
function dispatch(message: EventSourceMessage, on: StreamHandlers): number | undefined {
  if (!STREAM_EVENTS.has(message.event ?? '')) return;
  const what = `a ${message.event} event (id ${message.id ?? 'none'})`;
  const id = message.id !== undefined && /^\d{1,15}$/.test(message.id) ? Number(message.id) : undefined;
  const skip = (why: string): undefined => {
    on.warn(`Ignored ${what}: ${why}`);
    if (id !== undefined) on.checkpoint(id);
    return undefined;
  };
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return skip('its data is not JSON');
  }
  const seq = isFields(data) && Number.isSafeInteger(data.seq) ? (data.seq as number) : id;
  if (seq === undefined) return skip('it has no position');
  if (message.event === 'resync') return seq;
  if (message.event === 'checkpoint') {
    on.checkpoint(seq);
    return undefined;
  }
  if (message.event === 'flag') {
    const flag = readFlagEvent(data, seq);
    if (typeof flag === 'string') return skip(flag);
    on.flag(flag);
    return undefined;
  }
  const change = readChange(data, seq);
  if (typeof change === 'string') return skip(change);
  on.change(change);
  return undefined;
}
