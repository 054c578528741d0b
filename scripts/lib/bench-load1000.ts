import { PROPAGATION_KEY, benchToken, pct, sleep, startApiPeer } from './bench-common.js';
import { commitHere } from './bench-propagation.js';
import {
  openStreams,
  reportsUntil,
  seenBy,
  startSseClients,
  type ApiStats,
  type LoadDeps,
} from './bench-load.js';

/** Processes the 1,000 streams are spread over, each parsing its share (scripts/lib/bench-peer-sse.ts). */
const CLIENT_PROCESSES = 4;

/** Each client process starts its streams evenly over this long (all of them: 500 a second). */
const OPEN_OVER_MS = 2000;

/**
 * One PUT of the key through the API process, to a value of its own (40, else 30: the bench's
 * commits move it between 10 and 20, so neither kind of write finds it holding its value): the
 * change's position and when the response arrived, or why nothing was committed.
 */
async function putThere(
  url: string,
  auth: Record<string, string>,
): Promise<{ seq: number; at: number } | { error: string }> {
  let error = 'no answer';
  for (const value of [40, 30]) {
    const res = await fetch(`${url}/v1/config/${PROPAGATION_KEY}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ value, reason: 'bench' }),
    }).catch((err: unknown) => String(err));
    const at = Date.now();
    if (typeof res === 'string') return { error: res };
    const body = (await res.json().catch(() => ({}))) as { seq?: number | null; status?: string };
    if (res.status === 200 && typeof body.seq === 'number') return { seq: body.seq, at };
    error = `PUT answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`;
    if (body.status !== 'unchanged') break;
  }
  return { error };
}

/** Per change kind, each stream's delay from the write to the event; changes not seen by `total` streams. */
function eventDelays(
  committed: Map<number, { at: number; put: boolean }>,
  reports: { arrivals: Record<string, number[]> }[],
  total: number,
) {
  const put: number[] = [];
  const here: number[] = [];
  let missed = 0;
  for (const [seq, c] of committed) {
    const times = reports.flatMap((r) => r.arrivals[seq] ?? []);
    for (const t of times) (c.put ? put : here).push(t - c.at);
    missed += total - times.length;
  }
  return { put, here, missed };
}

/**
 * 1,000 SSE clients on ONE fresh API process. Parsing 1,000 streams in the bench's own event
 * loop would measure the bench, so the clients live in CLIENT_PROCESSES child processes
 * (250 streams each, one token each), which report the times they saw things with Date.now()
 * (the same machine clock as the bench's commits). Each process starts its streams evenly over
 * OPEN_OVER_MS; the connect time is, per stream, from its own start to its response headers.
 * Then a change a second, by turns: a PUT through the API process itself, each arrival timed
 * from the moment its response arrived (the fan-out: one serialization per change, then a write
 * per stream), and a commit here, timed from the moment set() returned (which adds the API
 * process's poll of the change log). At the end every stream is closed and all 1,000 are opened
 * again at once, as after a server restart.
 */
export async function load1000(d: LoadDeps): Promise<Record<string, number>> {
  const { run } = d;
  const total = 1000;
  const seconds = run.quick ? 6 : 10;
  run.say(
    `API load: ${total} SSE clients on one API process (in ${CLIENT_PROCESSES} processes), a change a second for ${seconds} s ...`,
  );
  const api = await startApiPeer(d);
  const tokens = await Promise.all(
    Array.from({ length: CLIENT_PROCESSES }, (_, i) => benchToken(d.config, 'read', 10 + i)),
  );
  const write = { authorization: `Bearer ${await benchToken(d.config, 'write', 20)}` };
  const path = `/v1/events?keys=${PROPAGATION_KEY}`;
  const clients = await Promise.all(
    tokens.map((token) => startSseClients(api.url, token, total / CLIENT_PROCESSES, path)),
  );
  await api.peer.ask('loop-reset');
  const connectMs = await openStreams(run, clients, `open ${OPEN_OVER_MS}`);

  const committed = await changes(d, seconds, () => putThere(api.url, write));
  // Changes committed near the end get up to 10 s to reach every open stream.
  const expected = connectMs.length;
  const reports = await reportsUntil(clients, 10_000, (r) =>
    [...committed.keys()].every((seq) => seenBy(r, seq) >= expected),
  );
  const stats = (await api.peer.ask('stats')) as unknown as ApiStats;

  run.say(`  then every stream closed, and all ${total} opened again at once ...`);
  await Promise.all(clients.map((c) => c.ask('close')));
  await sleep(1000); // the server has seen them go
  const burstMs = await openStreams(run, clients, 'open');
  await Promise.all(clients.map((c) => c.stop()));
  await api.peer.stop();

  const events = eventDelays(committed, reports, total);
  return {
    load_1000_clients: total,
    load_1000_open_failures: total - expected,
    load_1000_connect_ms_p50: pct(connectMs, 50),
    load_1000_connect_ms_p99: pct(connectMs, 99),
    load_1000_changes: committed.size,
    load_1000_event_ms_p50: pct(events.put, 50),
    load_1000_event_ms_p99: pct(events.put, 99),
    load_1000_remote_event_ms_p50: pct(events.here, 50),
    load_1000_remote_event_ms_p99: pct(events.here, 99),
    load_1000_events_missed: events.missed,
    load_1000_event_duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
    load_1000_streams_ended: reports.reduce((n, r) => n + r.ended, 0),
    load_1000_rss_mb: stats.rss_mb,
    load_1000_event_loop_delay_ms_p99: stats.loop_ms_p99,
    load_1000_burst_connect_ms_p99: pct(burstMs, 99),
    load_1000_burst_open_failures: total - burstMs.length,
  };
}

/** A change a second for `seconds`, by turns through `put` and here: position → when and which. */
async function changes(
  d: LoadDeps,
  seconds: number,
  put: () => ReturnType<typeof putThere>,
): Promise<Map<number, { at: number; put: boolean }>> {
  const committed = new Map<number, { at: number; put: boolean }>();
  let failures = 0;
  const started = Date.now();
  for (let i = 1; i <= seconds; i++) {
    await sleep(Math.max(0, started + i * 1000 - Date.now()));
    if (i % 2 === 1) {
      const c = await put();
      if ('error' in c) {
        if (failures++ === 0) d.run.say(`  a PUT committed nothing: ${c.error}`);
      } else committed.set(c.seq, { at: c.at, put: true });
    } else {
      const c = await commitHere(d.config);
      if (c?.seq !== undefined) committed.set(c.seq, { at: c.at, put: false });
    }
  }
  return committed;
}
