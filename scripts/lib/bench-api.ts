import type { ConfigService } from '../../src/config/service.js';
import { FlagStore } from '../../src/flags/flags.js';
import { BENCH_ADMIN, PROPAGATION_KEY, benchToken, pct, sleep, type BenchRun } from './bench-common.js';
import { commitHere } from './bench-propagation.js';
import { followSse } from './sse.js';

export interface ApiDeps {
  run: BenchRun;
  uri: string;
  dbName: string;
  intervalMs: number;
  /** The bench's own process, which commits. */
  config: ConfigService;
}

/** Waits (up to 10 s) for `seq` in `arrivals`; its arrival time, or undefined. */
async function arrivalOf(arrivals: Map<number, number>, seq: number): Promise<number | undefined> {
  const until = Date.now() + 10_000;
  while (!arrivals.has(seq) && Date.now() < until) await sleep(1);
  return arrivals.get(seq);
}

/**
 * Against an API served by another process: commit here → event received by an SSE client of
 * that process; a flag changed here → its `event: flag`; a write through that process's own
 * PUT → the event on its own stream.
 */
export async function sseFigures(d: ApiDeps, url: string): Promise<Record<string, number>> {
  const { run } = d;
  const out: Record<string, number> = {};
  const headers = { authorization: `Bearer ${await benchToken(d.config, 'read')}` };
  const key = PROPAGATION_KEY;

  run.say('API: commit here → SSE event from another process ...');
  const arrivals = new Map<number, number>();
  const one = followSse(`${url}/v1/events?keys=${key}`, headers, (ev) => {
    if (ev.event === 'change') arrivals.set(Number(ev.id), Date.now());
  });
  await one.opened;
  const sseMs: number[] = [];
  for (let i = 0; i < (run.quick ? 20 : 100); i++) {
    const c = await commitHere(d.config);
    if (c?.seq === undefined) continue;
    const at = await arrivalOf(arrivals, c.seq);
    if (at !== undefined) sseMs.push(at - c.at);
    await sleep(37 * (i % 7));
  }
  one.close();
  out.sse_event_ms_p50 = pct(sseMs, 50);
  out.sse_event_ms_p99 = pct(sseMs, 99);

  run.say('API: flag change here → event: flag from another process ...');
  const flags = new FlagStore(d.config);
  await flags.load();
  const flagName = 'bench-rollout';
  if (!flags.get(flagName))
    await flags.create(
      { name: flagName, description: 'bench', type: 'ops', owner: 'bench', enabled: true },
      BENCH_ADMIN,
    );
  const flagArrivals = new Map<number, number>();
  const flagStream = followSse(`${url}/v1/events?keys=${key}`, headers, (ev) => {
    if (ev.event === 'flag') flagArrivals.set(Number(ev.id), Date.now());
  });
  await flagStream.opened;
  const flagMs: number[] = [];
  for (let i = 0; i < (run.quick ? 20 : 100); i++) {
    const w = await flags
      .update(flagName, (f) => ({ ...f, rollout: f.rollout === 50 ? 60 : 50 }), BENCH_ADMIN)
      .catch(() => undefined);
    // From the commit (update() returned), as sse_event_ms is: not the write's own time.
    const at = Date.now();
    if (w?.seq === undefined) continue;
    const got = await arrivalOf(flagArrivals, w.seq);
    if (got !== undefined) flagMs.push(got - at);
    await sleep(37 * (i % 7));
  }
  flagStream.close();
  out.flag_sse_event_ms_p50 = pct(flagMs, 50);
  out.flag_sse_event_ms_p99 = pct(flagMs, 99);

  Object.assign(out, await sameProcess(d, url));
  return out;
}

/**
 * A write through the API process's own PUT and an SSE client of that same process. Per write:
 * the event's arrival minus the PUT response's arrival, floored at 0 (the server sends both
 * after the commit: a server that reads the log back before sending the event shows here), and
 * the event's arrival minus the moment the PUT was sent, for context.
 */
async function sameProcess(d: ApiDeps, url: string): Promise<Record<string, number>> {
  const n = d.run.quick ? 30 : 100;
  d.run.say(`API: PUT to a process → the event on its own stream (${n} writes) ...`);
  const auth = { authorization: `Bearer ${await benchToken(d.config, 'write', 1)}` };
  const arrivals = new Map<number, number>();
  const stream = followSse(`${url}/v1/events?keys=${PROPAGATION_KEY}`, auth, (ev) => {
    if (ev.event === 'change') arrivals.set(Number(ev.id), Date.now());
  });
  await stream.opened;
  const afterResponse: number[] = [];
  const afterRequest: number[] = [];
  // The other of two values each time, from the one in force (so no write is refused as unchanged).
  let value = d.config.get(PROPAGATION_KEY);
  let failures = 0;
  for (let i = 0; i < n; i++) {
    value = value === 10 ? 20 : 10;
    const sent = Date.now();
    const res = await fetch(`${url}/v1/config/${PROPAGATION_KEY}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ value, reason: 'bench' }),
    });
    const answered = Date.now();
    const body = (await res.json().catch(() => ({}))) as { seq?: number | null; status?: string };
    if (res.status !== 200 || typeof body.seq !== 'number') {
      if (failures++ === 0) d.run.say(`  PUT answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
      continue;
    }
    const at = await arrivalOf(arrivals, body.seq);
    if (at !== undefined) {
      afterResponse.push(Math.max(0, at - answered));
      afterRequest.push(at - sent);
    }
    await sleep(20 + Math.random() * 60);
  }
  stream.close();
  return {
    sse_same_process_ms_p50: pct(afterResponse, 50),
    sse_same_process_ms_p99: pct(afterResponse, 99),
    sse_same_process_from_request_ms_p99: pct(afterRequest, 99),
    sse_same_process_writes: afterResponse.length,
  };
}
