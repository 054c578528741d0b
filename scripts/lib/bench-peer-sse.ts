import { createInterface } from 'node:readline';
import { followSse, type SseStream } from './sse.js';

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** The answer to `open`: connect_ms per stream that opened, from its own start to its headers. */
export interface SseOpened {
  opened: number;
  failures: number;
  first_failure?: string;
  connect_ms: number[];
}

/** The answer to `report`: per change (seq), the time each stream first saw it. */
export interface SseReport {
  arrivals: Record<string, number[]>;
  duplicates: number;
  ended: number;
}

/**
 * Mode "sse-clients": `count` SSE clients of one API in this process, so that parsing a thousand
 * streams is spread over several processes instead of making the bench its own bottleneck.
 * Arrival times are this process's Date.now() (the same machine clock as the bench's). Commands
 * on stdin: `open [ms]` opens every stream, all at once or started evenly over `ms`, and answers
 * SseOpened (per stream, from that stream's own start to its response headers); `close` closes
 * every stream (answers `{closed}`; a later `open` opens them all again, as clients do after a
 * server restart); `report` answers SseReport (each stream's first arrival of each change, and
 * the streams that ended before a `close` or `stop`); `stop` closes them and ends.
 */
export async function sseClientsPeer(args: {
  url: string;
  token: string;
  count: number;
  path: string;
}): Promise<void> {
  const headers = { authorization: `Bearer ${args.token}` };
  const seen = Array.from({ length: args.count }, () => new Map<number, number>());
  let duplicates = 0;
  let ended = 0;
  let streams: SseStream[] = [];
  // Streams closed by `close` end too: only those of the current generation count as ended.
  let generation = 0;
  const closeAll = () => {
    generation++;
    for (const s of streams) s.close();
    const n = streams.length;
    streams = [];
    return n;
  };

  const open = async (paceMs: number): Promise<SseOpened> => {
    const mine = generation;
    const t0 = performance.now();
    const connectMs: number[] = [];
    const opening: SseStream[] = [];
    for (const [i, got] of seen.entries()) {
      const wait = t0 + (i * paceMs) / seen.length - performance.now();
      if (wait >= 1) await sleep(wait);
      const start = performance.now();
      const s = followSse(`${args.url}${args.path}`, headers, (ev) => {
        if (ev.event !== 'change') return;
        const seq = Number(ev.id);
        if (got.has(seq)) duplicates++;
        else got.set(seq, Date.now());
      });
      s.opened
        .then(() => {
          connectMs.push(performance.now() - start);
          return s.ended;
        })
        .then(() => {
          if (generation === mine) ended++; // an open stream that ended before `close` or `stop`
        })
        .catch(() => undefined);
      opening.push(s);
    }
    streams.push(...opening);
    const settled = await Promise.allSettled(opening.map((s) => s.opened));
    const failures = settled.filter((r) => r.status === 'rejected');
    const firstFailure = failures[0]?.status === 'rejected' ? String(failures[0].reason) : undefined;
    return {
      opened: settled.length - failures.length,
      failures: failures.length,
      ...(firstFailure ? { first_failure: firstFailure.slice(0, 300) } : {}),
      connect_ms: connectMs,
    };
  };

  out({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, arg] = line.trim().split(/\s+/);
    if (command === 'stop') break;
    if (command === 'open') out(await open(Number(arg) || 0));
    else if (command === 'close') out({ closed: closeAll() });
    else if (command === 'report') {
      const arrivals: Record<string, number[]> = {};
      for (const got of seen) for (const [seq, at] of got) (arrivals[seq] ??= []).push(at);
      const report: SseReport = { arrivals, duplicates, ended };
      out(report);
    }
  }
  closeAll();
}
