import { REASONS, type Reason } from '@config-bot/client/flags';
import type { CacheStats } from '../config/cache.js';
import { splitSlot } from '../config/scopes.js';
import type { Instance } from '../changes/instances.js';
import { flagOfSlot } from '../flags/types.js';
import type { ReasonCounts } from '../flags/usage.js';
import { VERSION_ACTIONS, type Actor, type ConfigAuditDoc } from '../storage/config-models.js';
import type { PanelDeps } from './types.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** The window of the change and changer figures. */
export const CHANGE_DAYS = 14;
/** Audit rows read per status for those figures (the page says when the window held more). */
const AUDIT_CAP = 1000;
/** Recent changes whose propagation is shown. */
const PROPAGATION_CHANGES = 8;

/** What the figures are read from: the process's service, feed, process list and flags. */
export type DashboardSources = Pick<PanelDeps, 'config' | 'feed' | 'instances' | 'flags' | 'mostRead'>;

/** Bars of one chart: a label per bar, and each series' value per bar. */
export interface Series {
  labels: string[];
  series: { name: string; values: number[] }[];
}

export interface Changer {
  actor: Actor;
  committed: number;
  denied: number;
  failed: number;
}

export interface Propagation {
  seq: number;
  key: string;
  scope: string;
  version: number;
  action: string | undefined;
  by: string | undefined;
  at: Date;
  live: number;
  applied: { name: string; lagMs: number | undefined }[];
  waiting: string[];
}

export interface OpenRequest {
  id: string;
  kind: string;
  requester: string;
  keys: string[];
  approvals: number;
  required: number;
  createdAt: Date;
  expiresAt: Date;
  ageMs: number;
}

export interface Health {
  database: 'connected' | 'unavailable';
  outageSince: Date | undefined;
  /** One read of the change log's head, timed: the database's round trip as this process sees it. */
  roundTripMs: number | undefined;
  head: number | undefined;
  position: number;
  startedFrom: string;
  auditQueued: number;
  undecryptable: number;
  instances: Instance[];
}

/** Each figure, or why it could not be read (the others are still shown). */
export type Figure<T> = { ok: true; value: T } | { ok: false; why: string };

export interface DashboardData {
  now: Date;
  changes: Figure<Series & { capped: boolean }>;
  changers: Figure<{ rows: Changer[]; capped: boolean }>;
  pendingRestart: string[];
  propagation: Figure<Propagation[]>;
  requests: Figure<OpenRequest[]>;
  reads: { key: string; reads: number }[];
  cache: CacheStats;
  flagsDay: Figure<Series>;
  flagsWeek: Figure<Series>;
  health: Health;
}

/** Every figure of the dashboards, from the database and this process, read in parallel. */
export async function dashboardData(deps: DashboardSources, now = new Date()): Promise<DashboardData> {
  const { config } = deps;
  const since = new Date(startOfDay(now.getTime()) - (CHANGE_DAYS - 1) * DAY_MS);
  const audit = (status: ConfigAuditDoc['status']) => config.auditLog({ status, since, limit: AUDIT_CAP });
  const [success, denied, failed, propagation, requests, usage, health] = await Promise.allSettled([
    audit('success'),
    audit('denied'),
    audit('failed'),
    propagationOf(deps),
    openRequests(deps, now),
    deps.flags.usage.byHour(new Date(now.getTime() - 7 * DAY_MS + HOUR_MS)),
    healthOf(deps),
  ]);
  const stats = config.stats();
  const rows = success.status === 'fulfilled' ? success.value : undefined;
  return {
    now,
    changes: figure(success, (r) => ({
      ...changesPerEnvironment(r, since, deps.config.environments),
      capped: r.length >= AUDIT_CAP,
    })),
    changers:
      rows && denied.status === 'fulfilled' && failed.status === 'fulfilled'
        ? {
            ok: true,
            value: {
              rows: topChangers(rows, denied.value, failed.value),
              capped: [rows, denied.value, failed.value].some((r) => r.length >= AUDIT_CAP),
            },
          }
        : { ok: false, why: whyOf(firstFailure(success, denied, failed)) },
    pendingRestart: config.pendingRestart(),
    propagation: figure(propagation, (p) => p),
    requests: figure(requests, (r) => r),
    reads: (await deps.mostRead?.(10)) ?? [],
    cache: stats.cache,
    flagsDay: figure(usage, (u) => flagHours(u, now)),
    flagsWeek: figure(usage, (u) => flagDays(u, now)),
    health:
      health.status === 'fulfilled'
        ? health.value
        : {
            database: stats.database,
            outageSince: stats.outageSince,
            roundTripMs: undefined,
            head: undefined,
            position: deps.feed.position,
            startedFrom: stats.startedFrom,
            auditQueued: stats.auditQueued,
            undecryptable: stats.undecryptable.length,
            instances: [],
          },
  };
}

function figure<T, U>(r: PromiseSettledResult<T>, fn: (v: T) => U): Figure<U> {
  return r.status === 'fulfilled' ? { ok: true, value: fn(r.value) } : { ok: false, why: whyOf(r.reason) };
}

function firstFailure(...results: PromiseSettledResult<unknown>[]): unknown {
  return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
}

function whyOf(err: unknown): string {
  return err instanceof Error && err.name === 'UserError'
    ? err.message
    : 'The database did not answer; this figure is shown again once it does.';
}

const startOfDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
const isChange = (r: ConfigAuditDoc) =>
  (VERSION_ACTIONS as readonly string[]).includes(r.action) && r.action !== 'init';

/** Where a change applies, as the chart groups it: an environment, every one (global), servers, or flags. */
function placeOf(r: { key: string; scope?: string | undefined }): string {
  if (flagOfSlot(r.key) !== undefined) return 'flags';
  const scope = r.scope ?? splitSlot(r.key).scope;
  if (!scope || scope === 'global') return 'global';
  if (scope.startsWith('env:')) return scope.slice(4);
  return 'servers';
}

/** Committed changes per UTC day and place, oldest day first (the seeding's first versions left out). */
export function changesPerEnvironment(
  rows: readonly ConfigAuditDoc[],
  since: Date,
  environments: readonly string[],
): Series {
  const days = Array.from({ length: CHANGE_DAYS }, (_, i) => since.getTime() + i * DAY_MS);
  const places = ['global', ...environments, 'servers', 'flags'];
  const counts = new Map(places.map((p) => [p, days.map(() => 0)]));
  for (const r of rows) {
    if (!isChange(r)) continue;
    const day = Math.floor((r.createdAt.getTime() - since.getTime()) / DAY_MS);
    const values = counts.get(placeOf(r)) ?? counts.get('servers');
    if (values && day >= 0 && day < days.length) values[day] = (values[day] ?? 0) + 1;
  }
  return {
    labels: days.map((d) => new Date(d).toISOString().slice(5, 10)),
    series: places
      .map((name) => ({ name, values: counts.get(name) ?? [] }))
      .filter((s) => s.values.some((v) => v > 0)),
  };
}

/** Who changed most, with their denied and failed attempts; denied attempts count toward the order. */
export function topChangers(
  success: readonly ConfigAuditDoc[],
  denied: readonly ConfigAuditDoc[],
  failed: readonly ConfigAuditDoc[],
  limit = 10,
): Changer[] {
  const by = new Map<string, Changer>();
  const row = (a: Actor) => {
    const found = by.get(a.id) ?? { actor: a, committed: 0, denied: 0, failed: 0 };
    by.set(a.id, found);
    return found;
  };
  for (const r of success) if (isChange(r)) row(r.actor).committed++;
  for (const r of denied) row(r.actor).denied++;
  for (const r of failed) row(r.actor).failed++;
  return [...by.values()]
    .sort(
      (a, b) => b.committed + b.denied - (a.committed + a.denied) || a.actor.tag.localeCompare(b.actor.tag),
    )
    .slice(0, limit);
}

/** The latest `count` changes in the log, newest first, and which live processes applied each, how fast. */
export async function propagationOf(
  deps: Pick<DashboardSources, 'config' | 'instances'>,
  count = PROPAGATION_CHANGES,
): Promise<Propagation[]> {
  const { config, instances } = deps;
  const head = await config.changes.head();
  const entries = await config.changes.after(Math.max(0, head - count), count);
  const docs = await config.storedVersions(entries.map((e) => ({ slot: e.key, version: e.version })));
  const out: Propagation[] = [];
  for (const e of entries.reverse()) {
    const by = await instances.appliedBy(e._id, e.at);
    const doc = docs.get(`${e.key}@${e.version}`);
    const { key, scope } = splitSlot(e.key);
    out.push({
      seq: e._id,
      key,
      scope,
      version: e.version,
      action: doc?.action,
      by: doc?.actor.tag,
      at: e.at,
      live: by.live,
      applied: by.applied.map((a) => ({ name: nameOf(a.instance), lagMs: a.lagMs })),
      waiting: by.waiting.map(nameOf),
    });
  }
  return out;
}

const nameOf = (i: Instance) => `${i.name ?? i.id} (${i.kind})`;

async function openRequests(deps: DashboardSources, now: Date): Promise<OpenRequest[]> {
  const list = await deps.config.requests.list('pending', 50);
  return list
    .map((r) => ({
      id: r.id,
      kind: r.kind,
      requester: r.requester.tag,
      keys: [...new Set(r.changes.map((c) => flagOfSlot(c.key) ?? c.key))],
      approvals: r.approvals.length,
      required: r.required,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      ageMs: now.getTime() - r.createdAt.getTime(),
    }))
    .sort((a, b) => b.ageMs - a.ageMs);
}

async function healthOf(deps: DashboardSources): Promise<Health> {
  const stats = deps.config.stats();
  const started = performance.now();
  const head = await deps.config.changes.head();
  const roundTripMs = Math.round(performance.now() - started);
  return {
    database: stats.database,
    outageSince: stats.outageSince,
    roundTripMs,
    head,
    position: deps.feed.position,
    startedFrom: stats.startedFrom,
    auditQueued: stats.auditQueued,
    undecryptable: stats.undecryptable.length,
    instances: await deps.instances.list(),
  };
}

/** The reasons seen in `rows`, most counted first: the chart's series. */
function reasonsOf(rows: readonly ReasonCounts[]): Reason[] {
  const total = new Map<Reason, number>();
  for (const r of rows)
    for (const [reason, n] of Object.entries(r) as [Reason, number][])
      total.set(reason, (total.get(reason) ?? 0) + n);
  return REASONS.filter((r) => total.has(r)).sort((a, b) => (total.get(b) ?? 0) - (total.get(a) ?? 0));
}

function bucketed(
  usage: readonly { hour: Date; counts: ReasonCounts }[],
  slots: number[],
  width: number,
  label: (t: number) => string,
): Series {
  const rows = slots.map(() => ({}) as ReasonCounts);
  for (const u of usage) {
    const i = slots.findIndex((s) => u.hour.getTime() >= s && u.hour.getTime() < s + width);
    const row = rows[i];
    if (!row) continue;
    for (const [reason, n] of Object.entries(u.counts) as [Reason, number][])
      row[reason] = (row[reason] ?? 0) + n;
  }
  const reasons = reasonsOf(rows);
  // Six colours tell series apart: past six reasons, the least counted share one bar.
  const shown = reasons.length > 6 ? reasons.slice(0, 5) : reasons;
  const rest = reasons.slice(shown.length);
  const series: Series['series'] = shown.map((reason) => ({
    name: reason,
    values: rows.map((r) => r[reason] ?? 0),
  }));
  if (rest.length)
    series.push({
      name: `other (${rest.join(', ')})`,
      values: rows.map((r) => rest.reduce((n, reason) => n + (r[reason] ?? 0), 0)),
    });
  return { labels: slots.map(label), series };
}

/** Evaluations per reason in each of the last 24 hours (the current one last), UTC. */
export function flagHours(usage: readonly { hour: Date; counts: ReasonCounts }[], now: Date): Series {
  const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const slots = Array.from({ length: 24 }, (_, i) => current - (23 - i) * HOUR_MS);
  return bucketed(usage, slots, HOUR_MS, (t) => `${new Date(t).toISOString().slice(11, 13)}h`);
}

/** Evaluations per reason on each of the last 7 days (today last), UTC. */
export function flagDays(usage: readonly { hour: Date; counts: ReasonCounts }[], now: Date): Series {
  const today = startOfDay(now.getTime());
  const slots = Array.from({ length: 7 }, (_, i) => today - (6 - i) * DAY_MS);
  return bucketed(usage, slots, DAY_MS, (t) => new Date(t).toISOString().slice(5, 10));
}
