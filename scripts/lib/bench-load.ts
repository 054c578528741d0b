import type { ConfigService } from '../../src/config/service.js';
import {
  PROPAGATION_KEY,
  benchToken,
  pct,
  sleep,
  startApiPeer,
  startPeers,
  type BenchRun,
  type Peer,
} from './bench-common.js';
import { commitHere } from './bench-propagation.js';
import { followSse } from './sse.js';

export interface LoadDeps {
  run: BenchRun;
  uri: string;
  dbName: string;
  intervalMs: number;
  config: ConfigService;
}

/** The API process's resident memory and event loop delay since its last `loop-reset`. */
interface ApiStats {
  rss_mb: number;
  loop_ms_p50: number;
  loop_ms_p99: number;
  loop_ms_max: number;
}

/**
 * The load check against an API process: SSE_CLIENTS streams open while READS_PER_S reads run
 * for LOAD_SECONDS, with a change committed here every second that every stream must receive;
 * and the API process's memory at the end and its event loop delay during the step.
 */
export async function loadFigures(
  d: LoadDeps & { peer: Peer; url: string; headers: Record<string, string> },
): Promise<Record<string, number>> {
  const { url, headers } = d;
  const clients = 200;
  const readsPerS = 500;
  const seconds = d.run.quick ? 5 : 30;
  d.run.say(`API load: ${clients} SSE clients and ${readsPerS} reads/s for ${seconds} s ...`);
  await d.peer.ask('loop-reset');
  const received = Array.from({ length: clients }, () => new Set<number>());
  const streams = received.map((seen) =>
    followSse(`${url}/v1/events`, headers, (ev) => {
      if (ev.event === 'change') seen.add(Number(ev.id));
    }),
  );
  const openFailures = (await Promise.allSettled(streams.map((s) => s.opened))).filter(
    (r) => r.status === 'rejected',
  ).length;
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
  const deadline = Date.now() + 3000;
  const missing = () => received.reduce((n, seen) => n + committed.filter((c) => !seen.has(c)).length, 0);
  while (missing() > 0 && Date.now() < deadline) await sleep(50);
  const stats = (await d.peer.ask('stats')) as unknown as ApiStats;
  for (const s of streams) s.close();
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
    load_sse_events_missed: missing(),
    load_rss_mb: stats.rss_mb,
    load_event_loop_delay_ms_p99: stats.loop_ms_p99,
    load_event_loop_delay_ms_max: stats.loop_ms_max,
  };
}

/** Processes the 1,000 streams are spread over, each parsing its share (scripts/lib/bench-peer-sse.ts). */
const CLIENT_PROCESSES = 4;

/**
 * 1,000 SSE clients on ONE fresh API process. Parsing 1,000 streams in the bench's own event
 * loop would measure the bench, so the clients live in CLIENT_PROCESSES child processes
 * (250 streams each, one token each), which report the times they saw things with Date.now()
 * (the same machine clock as the bench's commits). Every client is told to open at once: the
 * connect time is, per stream, from that command in its process to its response headers. Then a
 * change is committed here every second, and each one's arrival at each client is timed from
 * the moment set() returned.
 */
export async function load1000(d: LoadDeps): Promise<Record<string, number>> {
  const total = 1000;
  const seconds = d.run.quick ? 5 : 10;
  d.run.say(
    `API load: ${total} SSE clients on one API process (in ${CLIENT_PROCESSES} processes), a change a second for ${seconds} s ...`,
  );
  const api = await startApiPeer(d);
  const per = total / CLIENT_PROCESSES;
  const tokens = await Promise.all(
    Array.from({ length: CLIENT_PROCESSES }, (_, i) => benchToken(d.config, 'read', 10 + i)),
  );
  const clients = await Promise.all(
    tokens.map(async (token) => {
      const args = {
        mode: 'sse-clients',
        url: api.url,
        token,
        count: per,
        path: `/v1/events?keys=${PROPAGATION_KEY}`,
      };
      return (await startPeers(1, args)).peers[0] as Peer;
    }),
  );
  await api.peer.ask('loop-reset');
  const opened = (await Promise.all(clients.map((c) => c.ask('open')))) as {
    opened: number;
    failures: number;
    first_failure?: string;
    connect_ms: number[];
  }[];
  const failure = opened.find((o) => o.first_failure)?.first_failure;
  if (failure) d.run.say(`  a stream was refused: ${failure}`);
  const connectMs = opened.flatMap((o) => o.connect_ms);

  const committed = new Map<number, number>();
  const started = Date.now();
  for (let i = 1; i <= seconds; i++) {
    await sleep(Math.max(0, started + i * 1000 - Date.now()));
    const c = await commitHere(d.config);
    if (c?.seq !== undefined) committed.set(c.seq, c.at);
  }
  type Report = { arrivals: Record<string, number[]>; duplicates: number; ended: number };
  const report = async () => (await Promise.all(clients.map((c) => c.ask('report')))) as unknown as Report[];
  const seenBy = (reports: Report[], seq: number) =>
    reports.reduce((n, r) => n + (r.arrivals[seq]?.length ?? 0), 0);
  const expected = connectMs.length;
  // Changes committed near the end get up to 10 s to reach every open stream.
  let reports = await report();
  const deadline = Date.now() + 10_000;
  while ([...committed.keys()].some((s) => seenBy(reports, s) < expected) && Date.now() < deadline) {
    await sleep(250);
    reports = await report();
  }
  const stats = (await api.peer.ask('stats')) as unknown as ApiStats;
  await Promise.all(clients.map((c) => c.stop()));
  await api.peer.stop();

  const eventMs: number[] = [];
  let missed = 0;
  for (const [seq, at] of committed) {
    const times = reports.flatMap((r) => r.arrivals[seq] ?? []);
    for (const t of times) eventMs.push(t - at);
    missed += total - times.length;
  }
  return {
    load_1000_clients: total,
    load_1000_open_failures: total - expected,
    load_1000_connect_ms_p50: pct(connectMs, 50),
    load_1000_connect_ms_p99: pct(connectMs, 99),
    load_1000_changes: committed.size,
    load_1000_event_ms_p50: pct(eventMs, 50),
    load_1000_event_ms_p99: pct(eventMs, 99),
    load_1000_events_missed: missed,
    load_1000_event_duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
    load_1000_streams_ended: reports.reduce((n, r) => n + r.ended, 0),
    load_1000_rss_mb: stats.rss_mb,
    load_1000_event_loop_delay_ms_p99: stats.loop_ms_p99,
  };
}
