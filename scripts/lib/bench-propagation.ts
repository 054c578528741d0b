import type { ConfigService } from '../../src/config/service.js';
import {
  BENCH_ADMIN,
  PROPAGATION_KEY,
  commitGap,
  cpuWindow,
  pct,
  sleep,
  startPeers,
  type BenchRun,
  type ChangeLine,
  type Peer,
} from './bench-common.js';

export interface PropagationDeps {
  run: BenchRun;
  uri: string;
  dbName: string;
  intervalMs: number;
  /** The writer: this (the bench) process. */
  config: ConfigService;
  /** The database server's pid when the bench started it (embedded), else undefined. */
  serverPid: number | undefined;
}

/** How long a follower has to take a commit before it counts as missed. */
const MISSED_AFTER_MS = 10_000;

/**
 * One commit of the key from this process, to the other of two values (so it is never refused
 * as unchanged, even when another process moved the key since): its version, its position in the
 * change log and when set() returned. Undefined when both were refused.
 */
export async function commitHere(
  config: ConfigService,
): Promise<{ version: number; seq: number | undefined; at: number } | undefined> {
  const first = config.get(PROPAGATION_KEY) === 10 ? '20' : '10';
  for (const value of [first, first === '10' ? '20' : '10']) {
    const r = await config.set(PROPAGATION_KEY, value, BENCH_ADMIN).catch(() => undefined);
    if (r) return { version: r.version, seq: r.seq, at: Date.now() };
  }
  return undefined;
}

/** `n` commits, one every 100 to 200 ms (random): version → when set() returned. */
async function commitSeries(config: ConfigService, n: number): Promise<Map<number, number>> {
  const committed = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = await commitHere(config);
    if (c) committed.set(c.version, c.at);
    await commitGap();
  }
  return committed;
}

/** What each follower saw of the key: version → arrival times (more than one is a duplicate). */
function recordArrivals(peers: Peer[]): Map<number, number[]>[] {
  return peers.map((p) => {
    const seen = new Map<number, number[]>();
    p.onChange = (c: ChangeLine) => {
      if (c.change !== PROPAGATION_KEY || c.scope !== 'global') return;
      const at = seen.get(c.version);
      if (at) at.push(c.at);
      else seen.set(c.version, [c.at]);
    };
    return seen;
  });
}

/** Waits until every follower saw every commit, or MISSED_AFTER_MS after the last one. */
async function settle(committed: Map<number, number>, seen: Map<number, number[]>[]): Promise<void> {
  const last = Math.max(0, ...committed.values());
  const all = () => seen.every((s) => [...committed.keys()].every((v) => s.has(v)));
  while (!all() && Date.now() < last + MISSED_AFTER_MS) await sleep(20);
}

function delays(committed: Map<number, number>, seen: Map<number, number[]>[]) {
  const ms: number[] = [];
  let missed = 0;
  let duplicates = 0;
  for (const s of seen) {
    for (const [version, at] of committed) {
      const first = s.get(version)?.[0];
      if (first === undefined || first - at > MISSED_AFTER_MS) missed++;
      else ms.push(first - at);
    }
    for (const times of s.values()) duplicates += times.length - 1;
  }
  return { ms, missed, duplicates };
}

/** `count` follower processes (bench-peer-follow.ts) and the arrivals each reports. */
async function startFollowers(d: PropagationDeps, count: number) {
  const { peers } = await startPeers(count, {
    mode: 'follow',
    uri: d.uri,
    dbName: d.dbName,
    intervalMs: d.intervalMs,
  });
  return { peers, seen: recordArrivals(peers) };
}

/**
 * Commit here → the change current in ONE follower process (a real process, started as
 * production starts one), then that process at rest: the database commands it sends while
 * nothing changes, counted inside it with the driver's command monitoring, and its own CPU.
 */
export async function oneFollower(d: PropagationDeps): Promise<Record<string, number>> {
  const { run } = d;
  const n = run.quick ? 30 : 100;
  run.say(`propagation to one follower process (${n} commits, one every 100-200 ms) ...`);
  const { peers, seen } = await startFollowers(d, 1);
  await sleep(500); // past its start-up: its first heartbeat and catch-up
  const committed = await commitSeries(d.config, n);
  await settle(committed, seen);
  const r = delays(committed, seen);
  const out: Record<string, number> = {
    propagation_ms_p50: pct(r.ms, 50),
    propagation_ms_p99: pct(r.ms, 99),
    propagation_ms_max: pct(r.ms, 100),
    propagation_commits: committed.size,
    propagation_missed: r.missed,
  };

  const idleMs = run.quick ? 5000 : 10_000;
  run.say(`the follower at rest: its database commands and CPU over ${idleMs / 1000} s, polling and not ...`);
  // Past its report of the last change, and the garbage collections V8 runs when a process goes
  // quiet after work (its memory reducer): the figure is of a process that has been idle a while.
  await sleep(run.quick ? 5000 : 10_000);
  const idle = await idleWindow(run, peers[0], `idle ${idleMs}`, 'idle commands of one follower');
  // The same window with its polling put off: what the process costs when it does not poll.
  const unpolled = await idleWindow(run, peers[0], `unpolled ${idleMs}`, 'the same, not polling');
  await Promise.all(peers.map((p) => p.stop()));
  if (idle) {
    out.poll_queries_per_s_per_process = idle.commands / idle.seconds;
    out.idle_cpu_percent = idle.cpu_percent;
  }
  if (unpolled) {
    out.poll_queries_per_s_unpolled = unpolled.commands / unpolled.seconds;
    out.idle_cpu_percent_unpolled = unpolled.cpu_percent;
  }
  // % of a core × 10 is ms of CPU a second; over the polls a second, ms of CPU per poll.
  if (idle && unpolled)
    out.idle_cpu_ms_per_poll =
      ((idle.cpu_percent - unpolled.cpu_percent) * 10) / (idle.commands / idle.seconds);
  out.poll_interval_ms = d.intervalMs;
  return out;
}

interface IdleWindow {
  commands: number;
  seconds: number;
  cpu_percent: number;
  by: Record<string, number>;
}

/** A follower's answer to an idle window's command (`idle` or `unpolled`), its commands told. */
async function idleWindow(
  run: BenchRun,
  peer: Peer | undefined,
  command: string,
  what: string,
): Promise<IdleWindow | undefined> {
  const idle = (await peer?.ask(command))?.idle as IdleWindow | undefined;
  if (!idle) return undefined;
  run.say(`  ${what}, ${idle.seconds.toFixed(1)} s (command collection: count, per s):`);
  for (const [name, count] of Object.entries(idle.by))
    run.say(`    ${name.padEnd(40)} ${String(count).padStart(5)}  ${(count / idle.seconds).toFixed(2)}/s`);
  return idle;
}

/**
 * The same with 8 follower processes at once: propagation over all followers × commits, commits
 * some follower never took (within 10 s), versions a follower took twice, and the database
 * server's CPU (from /proc, only for a server the bench started) at rest and over the commits.
 */
export async function eightFollowers(d: PropagationDeps): Promise<Record<string, number>> {
  const { run } = d;
  const n = run.quick ? 30 : 100;
  const idleMs = run.quick ? 5000 : 10_000;
  run.say(`propagation to 8 follower processes (${n} commits), and the database's CPU ...`);
  const { peers, seen } = await startFollowers(d, 8);
  await sleep(1000);
  const out: Record<string, number> = {};
  // Said even with --json (on stderr): a figure missing from the object needs its reason.
  const note = (s: string) => process.stderr.write(`bench: ${s}\n`);
  if (d.serverPid === undefined)
    note('db_cpu_percent_8 left out: the database server is not one the bench started (MONGODB_URI)');

  const idle = cpuWindow(d.serverPid);
  await sleep(idleMs);
  const idlePercent = idle();

  const busy = cpuWindow(d.serverPid);
  const committed = await commitSeries(d.config, n);
  const busyPercent = busy();
  await settle(committed, seen);
  await Promise.all(peers.map((p) => p.stop()));

  const r = delays(committed, seen);
  out.propagation_8_ms_p50 = pct(r.ms, 50);
  out.propagation_8_ms_p99 = pct(r.ms, 99);
  out.propagation_8_commits = committed.size;
  out.propagation_8_missed = r.missed;
  out.propagation_8_duplicates = r.duplicates;
  if (busyPercent !== undefined) out.db_cpu_percent_8 = busyPercent;
  if (idlePercent !== undefined) out.db_cpu_percent_8_idle = idlePercent;
  if (d.serverPid !== undefined && (busyPercent === undefined || idlePercent === undefined))
    note(`db_cpu_percent_8 left out: /proc/${d.serverPid}/stat could not be read`);
  return out;
}
