import { FLAG_IMPACTS, FLAG_TYPES, type FlagDefinition } from '@config-bot/client/flags';
import type { Staleness } from '../flags/lifecycle.js';
import type { StoredFlag } from '../flags/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import type { FieldIssue } from './flags-edit.js';
import { CsrfField, Page, Time } from './layout.js';

export interface FlagRow {
  s: StoredFlag;
  stale: Staleness;
  never: boolean;
}

/** The environments to show a column for: this deployment's, then any a flag names besides. */
export function environmentColumns(known: readonly string[], flags: readonly FlagDefinition[]): string[] {
  const extra = flags.flatMap((f) => f.environments).filter((e) => !known.includes(e));
  return [...known, ...new Set(extra)];
}

/** Whether the flag is on in `env` (kill switch on and the environment listed). */
export const onIn = (f: FlagDefinition, env: string): boolean =>
  !f.archived && f.enabled && f.environments.includes(env);

/** One line of what else decides, after the environment: `25% by userId · 2 conditions`. */
export function rulesText(f: FlagDefinition): string {
  const n = (k: number, what: string) => (k ? `${k} ${what}${k === 1 ? '' : 's'}` : '');
  const targets = ['users', 'roles', 'guilds'].reduce(
    (a, k) => a + f.include[k as 'users'].length + f.exclude[k as 'users'].length,
    0,
  );
  return [
    `${f.rollout}% by ${f.stickiness}`,
    n(f.conditions.length, 'condition'),
    n(targets, 'target'),
    n(f.variants.length, 'variant'),
    f.prerequisites.length ? `requires ${f.prerequisites.join(', ')}` : '',
    f.start || f.end ? 'scheduled' : '',
    f.errorThreshold ? 'automatic kill' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function EnvState({ f, env }: { f: FlagDefinition; env: string }) {
  const on = onIn(f, env);
  return <span class={`fl-state ${on ? 'fl-on' : 'fl-off'}`}>{on ? 'on' : 'off'}</span>;
}

export interface ListProps {
  session: PanelSessionDoc;
  rows: FlagRow[];
  envs: string[];
  unknown: string[];
  staleDays: number;
  filter: { q: string; type: string; stale: boolean };
}

export function FlagListPage({ session, rows, envs, unknown, staleDays, filter }: ListProps) {
  const stale = rows.filter((r) => r.stale.stale).length;
  const never = rows.filter((r) => r.never).length;
  return (
    <Page title="Flags" session={session} current="/panel/flags">
      <form class="filters" method="get" action="/panel/flags" role="search">
        <label>
          Search <input type="search" name="q" value={filter.q} placeholder="Name or description" />
        </label>
        <label>
          Type{' '}
          <select name="type">
            <option value="">All</option>
            {FLAG_TYPES.map((t) => (
              <option value={t} selected={t === filter.type}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label class="fl-inline">
          <input type="checkbox" name="stale" value="1" checked={filter.stale} /> Only stale
        </label>
        <button type="submit">Filter</button>
        {session.access === 'write' && !session.ownScope && (
          <a class="fl-button" href="/panel/new-flag">
            Create a flag
          </a>
        )}
      </form>
      <p>
        {rows.length} flag{rows.length === 1 ? '' : 's'} · {stale} stale (release flags fully on or off and
        unchanged for {staleDays} days) · {never} never evaluated
      </p>
      {unknown.length > 0 && (
        <p class="warn">
          Evaluated in the last 24 hours but no flag has the name (a typo in code?):{' '}
          {unknown.map((n, i) => (
            <>
              {i > 0 && ', '}
              <code>{n}</code>
            </>
          ))}
        </p>
      )}
      {rows.length === 0 ? (
        <p>{filter.stale ? 'No stale flags.' : 'No flag matches.'}</p>
      ) : (
        <div class="scroll">
          <table class="fl-table">
            <thead>
              <tr>
                <th scope="col">Flag</th>
                {envs.map((e) => (
                  <th scope="col">{e}</th>
                ))}
                <th scope="col">Rules</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ s, stale: st, never: nv }) => (
                <tr id={`flag-${s.flag.name}`}>
                  <th scope="row">
                    <a href={`/panel/flags/${s.flag.name}`}>{s.flag.name}</a>{' '}
                    <span class="fl-tag">{s.flag.type}</span>
                    {!s.flag.enabled && <span class="fl-tag fl-tag-off">killed</span>}
                    {st.stale && (
                      <span class="fl-tag fl-tag-warn" title={st.why}>
                        stale
                      </span>
                    )}
                    {nv && <span class="fl-tag fl-tag-muted">never evaluated</span>}
                    <p class="hint">{s.flag.description}</p>
                    {st.why && <p class="hint warn">Stale: {st.why}</p>}
                  </th>
                  {envs.map((e) => (
                    <td data-label={e}>
                      <EnvState f={s.flag} env={e} />
                    </td>
                  ))}
                  <td data-label="Rules">{rulesText(s.flag)}</td>
                  <td data-label="Version">
                    v{s.version}
                    <p class="hint">
                      {s.updatedBy.tag}, <Time at={s.updatedAt} />
                    </p>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

/** The id of a field's alert (`err-rollout`, `err-conditions-0`). */
export const alertId = (field: string): string => `err-${field.replace('.', '-')}`;

/** A field's problems, said next to it. */
export function FieldAlert({ issues, field }: { issues: readonly FieldIssue[]; field: string }) {
  const mine = issues.filter((i) => i.field === field);
  if (!mine.length) return null;
  return (
    <p class="error" role="alert" id={alertId(field)}>
      {mine.map((i) => i.message).join('; ')}
    </p>
  );
}

export interface CreateProps {
  session: PanelSessionDoc;
  values: Record<string, string>;
  issues: FieldIssue[];
  /** A refusal that names no field (a name in use, the database unreachable). */
  error?: string | undefined;
}

/** The creation form: name, description, type, owner, impact, reason. */
export function CreateFlagPage({ session, values, issues, error }: CreateProps) {
  const v = (k: string, d = '') => values[k] ?? d;
  const invalid = (f: string) => (issues.some((i) => i.field === f) ? true : undefined);
  return (
    <Page title="Create a flag" session={session} current="/panel/flags">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form class="fl-stack" method="post" action="/panel/flags">
        <CsrfField session={session} />
        <label for="f-name">Name</label>
        <input
          id="f-name"
          name="name"
          required
          maxLength={64}
          value={v('name')}
          aria-invalid={invalid('name')}
          aria-describedby={invalid('name') && alertId('name')}
        />
        <p class="hint">lower-kebab-case: a letter, then letters, digits or dashes (new-checkout).</p>
        <FieldAlert issues={issues} field="name" />
        <label for="f-description">Description</label>
        <textarea
          id="f-description"
          name="description"
          required
          maxLength={500}
          rows={2}
          aria-invalid={invalid('description')}
          aria-describedby={invalid('description') && alertId('description')}
        >
          {v('description')}
        </textarea>
        <FieldAlert issues={issues} field="description" />
        <label for="f-type">Type</label>
        <select id="f-type" name="type">
          {FLAG_TYPES.map((t) => (
            <option value={t} selected={t === v('type', 'release')}>
              {t}
            </option>
          ))}
        </select>
        <FieldAlert issues={issues} field="type" />
        <label for="f-owner">Owner</label>
        <input
          id="f-owner"
          name="owner"
          maxLength={100}
          value={v('owner', session.user.tag)}
          aria-invalid={invalid('owner')}
          aria-describedby={invalid('owner') && alertId('owner')}
        />
        <FieldAlert issues={issues} field="owner" />
        <label for="f-impact">Impact</label>
        <select id="f-impact" name="impact">
          {FLAG_IMPACTS.map((t) => (
            <option value={t} selected={t === v('impact', 'low')}>
              {t}
            </option>
          ))}
        </select>
        <p class="hint">APPROVALS_REQUIRED says how many approvals a change of this impact needs.</p>
        <FieldAlert issues={issues} field="impact" />
        <label for="f-reason">Reason (kept in the history)</label>
        <input id="f-reason" name="reason" maxLength={500} value={v('reason')} />
        <p class="hint">It is created off, in no environment, until turned on.</p>
        <div>
          <button type="submit">Create</button>
        </div>
      </form>
    </Page>
  );
}
