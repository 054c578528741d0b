/**
 * Load for the fault suite: concurrent HTTP clients reading and writing through the API
 * processes, each answer sorted (success, refused with a clear reason, not answered, other), every
 * acknowledged write kept (slot, version, value) for the accounting afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stackLines } from './procs.js';

/** A write the API answered as committed: it must be in the database afterwards, once. */
export interface Ack {
  slot: string;
  key: string;
  scope: string;
  version: number;
  value: unknown;
  /** The attempt's id, sent in the write's reason (duplicates are found by it). */
  attempt: string;
  at: number;
}

export interface Tally {
  attempted: number;
  succeeded: number;
  /** 503, 409 or 429 with a plain `error.message` (no stack). */
  refused: number;
  /** No answer: the process was gone (connection refused or reset) or the request timed out. */
  unanswered: number;
  /** Answers that were neither a success nor a clear refusal. */
  other: number;
  stackTraces: number;
  acks: Ack[];
  /** A few of the `other` answers, for the notes. */
  samples: string[];
}

export interface WriteSlot {
  key: string;
  scope: string;
  /** The next value to write (different from the last one). */
  value(n: number): unknown;
}

export interface LoadOptions {
  /** The API base URLs requests go to now (round robin; they may change while the load runs). */
  targets(): readonly string[];
  token: string;
  clients: number;
  /** Operations in all (reads and writes); the load ends when they are done. */
  ops: number;
  /** Pause between two operations of one client. */
  paceMs: number;
  /** The load stops sending at this time (ms since the epoch) whatever is left. */
  stopAt: number;
  /** Slots client `i` writes. */
  slots(client: number): WriteSlot[];
  /** Share of operations that are writes (0-1). */
  writeShare: number;
  /** Put in every write's reason with a counter: the attempt id. */
  tag: string;
  /** Longest wait for one answer. */
  timeoutMs?: number;
}

const REFUSALS = new Set([409, 429, 503]);

/** Runs the clients until their operations are done, the time is up or stop() is called. */
export class Load {
  readonly tally: Tally = {
    attempted: 0,
    succeeded: 0,
    refused: 0,
    unanswered: 0,
    other: 0,
    stackTraces: 0,
    acks: [],
    samples: [],
  };
  /** Completion times of successful writes. */
  private readonly writeOks: number[] = [];
  private readonly flying = new Map<string, number>();
  private left: number;
  private stopped = false;
  /** Every client has stopped (operations done, time up or stop()). */
  private ended = false;
  private turn = 0;
  private attempts = 0;
  readonly done: Promise<void>;

  constructor(private readonly o: LoadOptions) {
    this.left = o.ops;
    this.done = Promise.all(Array.from({ length: o.clients }, (_, i) => this.client(i))).then(() => {
      this.ended = true;
    });
  }

  /** Operations started so far. */
  get started(): number {
    return this.o.ops - this.left;
  }

  /** Writes now waiting for an answer from `url`. */
  inFlight(url: string): number {
    return this.flying.get(url) ?? 0;
  }

  /** Completion time of the first successful write completed at or after `t`. */
  firstWriteAfter(t: number): number | undefined {
    return this.writeOks.find((at) => at >= t);
  }

  /** Waits until a write succeeds at or after `t`, or `timeoutMs` passes, or the load ends. */
  async recovered(t: number, timeoutMs: number): Promise<number | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const at = this.firstWriteAfter(t);
      if (at !== undefined) return at - t;
      if (Date.now() > until || this.ended) return null;
      await sleep(20);
    }
  }

  /** Waits until `n` operations have been started (or the load ended). */
  async reached(n: number): Promise<void> {
    while (this.started < n && !this.ended) await sleep(10);
  }

  async stop(): Promise<Tally> {
    this.stopped = true;
    await this.done;
    return this.tally;
  }

  private async client(i: number): Promise<void> {
    const slots = this.o.slots(i);
    let n = i * 7919;
    while (!this.stopped && this.left > 0 && Date.now() < this.o.stopAt) {
      const urls = this.o.targets();
      const url = urls[this.turn++ % urls.length];
      // No process serves right now (one is being started again): wait, as a balancer would.
      if (!url) {
        await sleep(50);
        continue;
      }
      this.left--;
      const slot = slots[n % slots.length];
      if (slot && Math.random() < this.o.writeShare) await this.write(url, slot, n);
      else await this.read(url, n);
      n++;
      await sleep(this.o.paceMs);
    }
  }

  private async read(url: string, n: number): Promise<void> {
    const path = n % 3 === 0 ? '/v1/config' : '/v1/config/MAX_BATCH_SIZE';
    await this.call(url, path, { method: 'GET' }, () => undefined);
  }

  private async write(url: string, slot: WriteSlot, n: number): Promise<void> {
    const attempt = `${this.o.tag}-${++this.attempts}`;
    const body = { value: slot.value(n), scope: slot.scope, reason: `chaos-load ${attempt}` };
    this.flying.set(url, this.inFlight(url) + 1);
    try {
      await this.call(
        url,
        `/v1/config/${slot.key}`,
        { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
        (json) => {
          this.writeOks.push(Date.now());
          const a = json as { status?: string; version?: number; value?: unknown; scope?: string };
          if (a.status !== 'committed' || typeof a.version !== 'number') return;
          const scope = a.scope ?? slot.scope;
          this.tally.acks.push({
            slot: scope === 'global' ? slot.key : `${slot.key}|${scope}`,
            key: slot.key,
            scope,
            version: a.version,
            value: a.value,
            attempt,
            at: Date.now(),
          });
        },
      );
    } finally {
      this.flying.set(url, this.inFlight(url) - 1);
    }
  }

  private async call(
    url: string,
    path: string,
    init: RequestInit,
    ok: (json: unknown) => void,
  ): Promise<void> {
    const t = this.tally;
    t.attempted++;
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${url}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.o.token}` },
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 15_000),
      });
      status = res.status;
      text = await res.text();
    } catch {
      t.unanswered++;
      return;
    }
    const traces = stackLines(text);
    t.stackTraces += traces;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300 && json !== undefined && !traces) {
      t.succeeded++;
      ok(json);
      return;
    }
    const message = (json as { error?: { message?: unknown } } | undefined)?.error?.message;
    if (REFUSALS.has(status) && typeof message === 'string' && message.length > 10 && !traces) {
      t.refused++;
      return;
    }
    t.other++;
    if (t.samples.length < 5) t.samples.push(`${init.method} ${path}: ${status} ${text.slice(0, 200)}`);
  }
}
