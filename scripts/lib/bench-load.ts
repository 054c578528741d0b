import type { ConfigService } from '../../src/config/service.js';
import { benchToken, pct, sleep, startPeers, type BenchRun, type Peer } from './bench-common.js';
import type { SseOpened, SseReport } from './bench-peer-sse.js';
import { commitHere } from './bench-propagation.js';

export interface LoadDeps {
  run: BenchRun;
  uri: string;
  dbName: string;
  intervalMs: number;
  config: ConfigService;
}

/** The API process's resident memory and event loop delay since its last `loop-reset`. */
export interface ApiStats {
  rss_mb: number;
  loop_ms_p50: number;
  loop_ms_p99: number;
  loop_ms_max: number;
}

/**
 * A child process holding `count` SSE streams of `url` + `path` (scripts/lib/bench-peer-sse.ts,
 * one token for all), so that parsing them does not load the bench's own event loop.
 */
export async function startSseClients(
  url: string,
  token: string,
  count: number,
  path: string,
): Promise<Peer> {
  return (await startPeers(1, { mode: 'sse-clients', url, token, count, path })).peers[0] as Peer;
}

/** Sends `command` (an `open`) to every client process: the connect times of the streams that opened. */
export async function openStreams(run: BenchRun, clients: Peer[], command: string): Promise<number[]> {
  const opened = (await Promise.all(clients.map((c) => c.ask(command)))) as unknown as SseOpened[];
  const failure = opened.find((o) => o.first_failure)?.first_failure;
  if (failure) run.say(`  a stream was refused: ${failure}`);
  return opened.flatMap((o) => o.connect_ms);
}

/** Every client process's report, asked again every 250 ms until `done` holds or `ms` passed. */
export async function reportsUntil(
  clients: Peer[],
  ms: number,
  done: (reports: SseReport[]) => boolean,
): Promise<SseReport[]> {
  const ask = async () => (await Promise.all(clients.map((c) => c.ask('report')))) as unknown as SseReport[];
  const deadline = Date.now() + ms;
  let reports = await ask();
  while (!done(reports) && Date.now() < deadline) {
    await sleep(250);
    reports = await ask();
  }
  return reports;
}

/** How many streams saw change `seq`, over every report. */
export const seenBy = (reports: SseReport[], seq: number): number =>
  reports.reduce((n, r) => n + (r.arrivals[seq]?.length ?? 0), 0);

/**
 * The load check against an API process: SSE_CLIENTS streams open while READS_PER_S reads run
 * for LOAD_SECONDS, with a change committed here every second that every stream must receive;
 * and the API process's memory at the end and its event loop delay during the step. The streams
 * live in a child process: this one only sends the reads and the commits, so the read times are
 * not those of a bench busy parsing 200 streams. A stream that did not open misses every change.
 */
export async function loadFigures(
  d: LoadDeps & { peer: Peer; url: string; headers: Record<string, string> },
): Promise<Record<string, number>> {
  const { url, headers } = d;
  const clients = 200;
  const readsPerS = 500;
  const seconds = d.run.quick ? 5 : 30;
  d.run.say(
    `API load: ${clients} SSE clients (another process) and ${readsPerS} reads/s for ${seconds} s ...`,
  );
  const sse = await startSseClients(url, await benchToken(d.config, 'read', 3), clients, '/v1/events');
  await d.peer.ask('loop-reset');
  const openFailures = clients - (await openStreams(d.run, [sse], 'open')).length;
  // The same reads for a few seconds first, not timed: the figure is of a server past its first
  // requests (code compiled, pools grown), as one that has been running is.
  const warm = Date.now();
  for (let n = 0; Date.now() - warm < 3000; await sleep(5))
    for (; n < ((Date.now() - warm) / 1000) * readsPerS; n++)
      void fetch(`${url}/v1/config/MAX_BATCH_SIZE`, { headers })
        .then((res) => res.arrayBuffer())
        .catch(() => undefined);
  const readMs: number[] = [];
  let readErrors = 0;
  const committed: number[] = [];
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const read = () => {
    const s = performance.now();
    const p = fetch(`${url}/v1/config/MAX_BATCH_SIZE`, { headers })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status !== 200) readErrors++;
        else readMs.push(performance.now() - s);
      })
      .catch(() => {
        readErrors++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let nextCommit = started + 1000;
  while (Date.now() - started < seconds * 1000) {
    // Keep to the rate: as many reads as should have been sent by now.
    const due = Math.floor(((Date.now() - started) / 1000) * readsPerS);
    while (sent < due) {
      read();
      sent++;
    }
    if (Date.now() >= nextCommit) {
      nextCommit += 1000;
      const c = await commitHere(d.config);
      if (c?.seq !== undefined) committed.push(c.seq);
    }
    await sleep(5);
  }
  const elapsed = (Date.now() - started) / 1000;
  await Promise.all([...inFlight]);
  // Changes committed near the end get a moment to arrive.
  const missing = (reports: SseReport[]) =>
    committed.reduce((n, seq) => n + clients - seenBy(reports, seq), 0);
  const missed = missing(await reportsUntil([sse], 3000, (r) => missing(r) === 0));
  const stats = (await d.peer.ask('stats')) as unknown as ApiStats;
  await sse.stop();
  return {
    load_sse_clients: clients,
    load_seconds: Math.round(elapsed),
    load_reads_per_s: readMs.length / elapsed,
    load_read_ms_p50: pct(readMs, 50),
    load_read_ms_p99: pct(readMs, 99),
    load_read_ms_max: pct(readMs, 100),
    load_read_errors: readErrors,
    load_sse_open_failures: openFailures,
    load_changes: committed.length,
    load_sse_events_missed: missed,
    load_rss_mb: stats.rss_mb,
    load_event_loop_delay_ms_p99: stats.loop_ms_p99,
    load_event_loop_delay_ms_max: stats.loop_ms_max,
  };
}
