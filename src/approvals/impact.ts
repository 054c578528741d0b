import { approvalsNeeded } from './gate.js';
import { MASK, present } from '../config/present.js';
import type { ImpactLevel, RegisteredKey } from '../config/registry.js';
import { GLOBAL, type Scope } from '../config/scopes.js';
import type { Preview } from '../config/types.js';

/** A job's schedule before and after a proposed change, with its next runs. */
export interface ScheduleForecast {
  job: string;
  before: { cron: string; timezone: string; next: Date[] };
  after: { cron: string; timezone: string; next: Date[] } | { error: string };
}

/** The processes following the configuration, as the impact preview counts them. */
export interface ProcessList {
  list(): Promise<{ id: string; name?: string | undefined; kind: string; state: string }[]>;
}

/** What can forecast job schedules (the running scheduler, in bot processes). */
export interface ScheduleForecaster {
  forecast(key: string, value: unknown, count?: number): ScheduleForecast[];
}

/**
 * Everything an admin should know before a change applies: the value in each environment before
 * and after, warnings, jobs whose schedule moves (with their next runs), restarts, which processes
 * will pick it up, the approvals it needs and the exact way back. Built from a service preview
 * (which already applied every rule: a change that would be refused never gets this far).
 */
export interface Impact {
  key: string;
  scope: Scope;
  before: string;
  after: string;
  /** Per environment this process knows: the value in force there before and after. */
  environments: { environment: string; before: string; after: string; note?: string }[];
  /** Server overrides that keep their own value whatever this change does. */
  serverOverrides: number;
  warnings: string[];
  jobs: ScheduleForecast[];
  restart: boolean;
  processes: { live: number; names: string[] };
  approvals: { level: ImpactLevel; needed: number };
  rollback: string;
}

/** What the impact reads of the configuration (the service; kept narrow so the service can use this too). */
export interface ImpactSource {
  readonly environments: readonly string[];
  readonly environment: string;
  readonly approvals: Partial<Record<ImpactLevel, number>>;
  definition(input: string): RegisteredKey;
  overrideScopes(key: string): Scope[];
  resolve(input: string, at?: { environment?: string }): { value: unknown };
}

export interface ImpactDeps {
  config: ImpactSource;
  scheduler?: ScheduleForecaster | undefined;
  instances?: ProcessList | undefined;
}

/** The impact of a previewed change (see ConfigService.previewSet, previewRollback, previewReset). */
export async function impactOf(deps: ImpactDeps, preview: Preview): Promise<Impact> {
  const { config } = deps;
  const def = config.definition(preview.key);
  const shown = (v: unknown) => (def.sensitive ? MASK : present(def, v));
  const overrides = config.overrideScopes(def.key);
  const environments = config.environments.map((environment) => {
    const before = config.resolve(def.key, { environment });
    const envOverride = overrides.includes(`env:${environment}`);
    let after = shown(before.value);
    let note: string | undefined;
    if (preview.scope === GLOBAL) {
      if (envOverride) note = 'keeps its own override';
      else after = preview.next;
    } else if (preview.scope === `env:${environment}`) {
      after = preview.next;
    } else if (preview.scope.startsWith('env:')) {
      note = 'not affected';
    }
    return { environment, before: shown(before.value), after, ...(note ? { note } : {}) };
  });
  // Jobs follow this process's environment: a change reaches them when it reaches that layer.
  const reachesJobs =
    preview.scope === GLOBAL
      ? !overrides.includes(`env:${config.environment}`)
      : preview.scope === `env:${config.environment}`;
  const jobs =
    reachesJobs && deps.scheduler && preview.value !== undefined
      ? deps.scheduler.forecast(def.key, preview.value, 3)
      : [];
  const live = deps.instances ? (await deps.instances.list()).filter((i) => i.state === 'live') : [];
  const where = preview.scope === GLOBAL ? '' : ` scope:${preview.scope}`;
  return {
    key: def.key,
    scope: preview.scope,
    before: preview.current,
    after: preview.next,
    environments,
    serverOverrides: overrides.filter((s) => s.startsWith('guild:')).length,
    warnings: preview.warnings,
    jobs,
    restart: def.requiresRestart,
    processes: { live: live.length, names: live.slice(0, 10).map((i) => `${i.name ?? i.id} (${i.kind})`) },
    approvals: { level: def.impact, needed: approvalsNeeded(def, config.approvals) },
    rollback:
      preview.currentVersion > 0 && preview.current !== '(no override)'
        ? `/config rollback setting:${def.key}${where} version:${preview.currentVersion}`
        : `/config reset setting:${def.key}${where} (removes the override)`,
  };
}

/** The impact as plain lines (change requests keep these; Discord embeds use addImpact). */
export function impactLines(impact: Impact): string[] {
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  const lines = impact.environments.map(
    (e) =>
      `${e.environment}: ${e.before}${e.before === e.after ? '' : ` → ${e.after}`}${e.note ? ` (${e.note})` : ''}`,
  );
  if (impact.serverOverrides) lines.push(`${impact.serverOverrides} server override(s) keep their own value`);
  lines.push(...impact.warnings.map((w) => `⚠️ ${w}`));
  for (const j of impact.jobs)
    lines.push(
      `Job ${j.job}: ${j.before.cron} ${j.before.timezone} → ${'error' in j.after ? `invalid (${j.after.error})` : `${j.after.cron} ${j.after.timezone}, next ${j.after.next.map(iso).join(', ')}`}`,
    );
  if (impact.restart) lines.push('Takes effect after each process restarts.');
  lines.push(
    impact.processes.live
      ? `Picked up by ${impact.processes.live} live process(es): ${impact.processes.names.join(', ')}`
      : 'No process reports itself (each one still applies it).',
  );
  lines.push(`Rollback plan: ${impact.rollback}`);
  return lines;
}
