import { createInterface } from 'node:readline';
import { followSse, type SseStream } from './sse.js';

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/**
 * Mode "sse-clients": `count` SSE clients of one API in this process, so that parsing a thousand
 * streams is spread over several processes instead of making the bench its own bottleneck. Times
 * are this process's Date.now() (the same machine clock as the bench's). Commands on stdin:
 * `open` opens every stream at once and answers `{opened, failures, connect_ms}` (per stream,
 * from the command to its response headers); `report` answers `{arrivals: {seq: [at...]},
 * duplicates, ended}` (each stream's first arrival of each change); `stop` closes them and ends.
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
  const streams: SseStream[] = [];
  out({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'stop') break;
    if (command === 'open') {
      const t0 = Date.now();
      const connectMs: number[] = [];
      for (const mine of seen) {
        const s = followSse(`${args.url}${args.path}`, headers, (ev) => {
          if (ev.event !== 'change') return;
          const seq = Number(ev.id);
          if (mine.has(seq)) duplicates++;
          else mine.set(seq, Date.now());
        });
        s.opened
          .then(() => {
            connectMs.push(Date.now() - t0);
            return s.ended;
          })
          .then(() => void ended++) // an open stream that ended before `stop`
          .catch(() => undefined);
        streams.push(s);
      }
      const settled = await Promise.allSettled(streams.map((s) => s.opened));
      const failures = settled.filter((r) => r.status === 'rejected');
      const firstFailure = failures[0]?.status === 'rejected' ? String(failures[0].reason) : undefined;
      out({
        opened: settled.length - failures.length,
        failures: failures.length,
        ...(firstFailure ? { first_failure: firstFailure.slice(0, 300) } : {}),
        connect_ms: connectMs,
      });
    } else if (command === 'report') {
      const arrivals: Record<string, number[]> = {};
      for (const mine of seen) for (const [seq, at] of mine) (arrivals[seq] ??= []).push(at);
      out({ arrivals, duplicates, ended });
    }
  }
  for (const s of streams) s.close();
}
