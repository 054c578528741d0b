import { cloneElement, isValidElement, toChildArray, type ComponentChildren } from 'preact';
import { FLAG_IMPACTS, FLAG_TYPES, type FlagDefinition } from '@config-bot/client/flags';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { all, one, type FieldIssue, type FormBody, type Section } from './flags-edit.js';
import { alertId, FieldAlert } from './flags-list.js';
import { CsrfField } from './layout.js';

/** What every section's form needs: the flag, who looks, and a refused attempt to show again. */
export interface SectionProps {
  f: FlagDefinition;
  version: number;
  session: PanelSessionDoc;
  /** This deployment's environments (ENVIRONMENTS). */
  environments: readonly string[];
  /** Other flags, for prerequisites. */
  others: readonly string[];
  timeZone: string;
  /** The section a refused form came from, with what was typed and what was wrong. */
  refused?: { section: Section; body: FormBody; issues: FieldIssue[]; error?: string } | undefined;
}

const canWrite = (s: PanelSessionDoc) => s.access === 'write' && !s.ownScope;

/** A section's form: its heading, the version it was read at, a reason and the save button. */
export function SectionForm(
  p: SectionProps & { section: Section; title: string; hint?: string; children: ComponentChildren },
) {
  const mine = p.refused?.section === p.section ? p.refused : undefined;
  // An archived flag can only be rolled back: its definition is shown, not offered for editing.
  const write = canWrite(p.session) && !p.f.archived;
  return (
    <section aria-labelledby={`s-${p.section}`} class="card" id={p.section}>
      <h2 id={`s-${p.section}`}>{p.title}</h2>
      {p.hint && <p class="hint">{p.hint}</p>}
      {mine?.error && (
        <p class="error" role="alert">
          {mine.error}
        </p>
      )}
      <form method="post" action={`/panel/flags/${p.f.name}/edit/${p.section}`} class="fl-stack">
        <CsrfField session={p.session} />
        <input type="hidden" name="version" value={String(p.version)} />
        <fieldset disabled={!write}>
          <legend class="sr-only">{p.title}</legend>
          {p.children}
          <FieldAlert issues={mine?.issues ?? []} field="flag" />
          {write && (
            <div class="fl-row fl-actions">
              <label class="fl-grow">
                Reason <input name="reason" maxLength={500} value={mine ? one(mine.body, 'reason') : ''} />
              </label>
              <button type="submit">Save {p.title.toLowerCase()}</button>
            </div>
          )}
        </fieldset>
      </form>
    </section>
  );
}

/** The typed value of a refused form, else the flag's. */
export function pick(p: SectionProps, section: Section, field: string, current: string): string {
  return p.refused?.section === section ? one(p.refused.body, field) : current;
}

export function issuesFor(p: SectionProps, section: Section): FieldIssue[] {
  return p.refused?.section === section ? p.refused.issues : [];
}

function Field(props: {
  id: string;
  label: string;
  issues: FieldIssue[];
  field: string;
  hint?: string;
  children: ComponentChildren;
}) {
  // The input says it is invalid and points at its alert, so a screen reader reads both together.
  const invalid = props.issues.some((i) => i.field === props.field);
  const input = toChildArray(props.children).map((c, i) =>
    invalid && i === 0 && isValidElement(c)
      ? cloneElement(c, { 'aria-invalid': 'true', 'aria-describedby': alertId(props.field) })
      : c,
  );
  return (
    <div class="fl-field">
      <label for={props.id}>{props.label}</label>
      {input}
      {props.hint && <p class="hint">{props.hint}</p>}
      <FieldAlert issues={props.issues} field={props.field} />
    </div>
  );
}

export function DetailsSection(p: SectionProps) {
  const is = issuesFor(p, 'details');
  const v = (field: string, cur: string) => pick(p, 'details', field, cur);
  return (
    <SectionForm {...p} section="details" title="Details">
      <Field id="d-description" label="Description" issues={is} field="description">
        <textarea id="d-description" name="description" rows={2} maxLength={500}>
          {v('description', p.f.description)}
        </textarea>
      </Field>
      <div class="fl-row">
        <Field id="d-owner" label="Owner" issues={is} field="owner">
          <input id="d-owner" name="owner" maxLength={100} value={v('owner', p.f.owner)} />
        </Field>
        <Field id="d-type" label="Type" issues={is} field="type">
          <select id="d-type" name="type">
            {FLAG_TYPES.map((t) => (
              <option selected={t === v('type', p.f.type)}>{t}</option>
            ))}
          </select>
        </Field>
        <Field
          id="d-impact"
          label="Impact"
          issues={is}
          field="impact"
          hint="Approvals needed follow APPROVALS_REQUIRED"
        >
          <select id="d-impact" name="impact">
            {FLAG_IMPACTS.map((t) => (
              <option selected={t === v('impact', p.f.impact)}>{t}</option>
            ))}
          </select>
        </Field>
      </div>
    </SectionForm>
  );
}

export function EnvironmentsSection(p: SectionProps) {
  const is = issuesFor(p, 'environments');
  const typed = p.refused?.section === 'environments' ? all(p.refused.body, 'env') : undefined;
  const listed = typed ?? p.f.environments;
  const names = [...new Set([...p.environments, ...p.f.environments])];
  return (
    <SectionForm
      {...p}
      section="environments"
      title="Environments"
      hint="On only in the environments checked (and only while the kill switch is on)."
    >
      <fieldset class="fl-checks">
        <legend>On in</legend>
        {names.map((e) => (
          <label class="fl-inline">
            <input type="checkbox" name="env" value={e} checked={listed.includes(e)} /> {e}
            {!p.environments.includes(e) && <span class="hint"> (not one of this deployment's)</span>}
          </label>
        ))}
      </fieldset>
      <Field
        id="e-other"
        label="Other environments"
        issues={is}
        field="environments"
        hint="Names separated by spaces or commas"
      >
        <input id="e-other" name="envOther" value={pick(p, 'environments', 'envOther', '')} />
      </Field>
    </SectionForm>
  );
}

const TARGETS = [
  ['include', 'Users', 'users', 'includeUsers'],
  ['include', 'Roles', 'roles', 'includeRoles'],
  ['include', 'Servers', 'guilds', 'includeGuilds'],
  ['exclude', 'Users', 'users', 'excludeUsers'],
  ['exclude', 'Roles', 'roles', 'excludeRoles'],
  ['exclude', 'Servers', 'guilds', 'excludeGuilds'],
] as const;

export function TargetingSection(p: SectionProps) {
  const is = issuesFor(p, 'targeting');
  return (
    <SectionForm
      {...p}
      section="targeting"
      title="Targeting"
      hint="Discord ids, separated by spaces, commas or lines. Excluded wins over included; included skips the conditions and the rollout."
    >
      <div class="fl-grid3">
        {TARGETS.map(([side, label, list, field]) => (
          <Field
            id={`t-${field}`}
            label={`${side === 'include' ? 'Include' : 'Exclude'}: ${label.toLowerCase()}`}
            issues={is}
            field={`${side}.${list}`}
          >
            <textarea id={`t-${field}`} name={field} rows={2}>
              {pick(p, 'targeting', field, p.f[side][list].join('\n'))}
            </textarea>
          </Field>
        ))}
      </div>
    </SectionForm>
  );
}

export function RolloutSection(p: SectionProps) {
  const is = issuesFor(p, 'rollout');
  const v = (field: string, cur: string) => pick(p, 'rollout', field, cur);
  return (
    <SectionForm
      {...p}
      section="rollout"
      title="Rollout"
      hint="Users are placed by hashing the stickiness with the group."
    >
      <div class="fl-row">
        <Field
          id="r-rollout"
          label="Percentage"
          issues={is}
          field="rollout"
          hint="0 to 100, at most two decimals"
        >
          <input
            id="r-rollout"
            name="rollout"
            inputMode="decimal"
            value={v('rollout', String(p.f.rollout))}
          />
        </Field>
        <Field
          id="r-stickiness"
          label="Stickiness"
          issues={is}
          field="stickiness"
          hint="userId, guildId or an attribute"
        >
          <input
            id="r-stickiness"
            name="stickiness"
            list="stickiness-list"
            value={v('stickiness', p.f.stickiness)}
          />
          <datalist id="stickiness-list">
            <option value="userId" />
            <option value="guildId" />
          </datalist>
        </Field>
        <Field id="r-group" label="Group" issues={is} field="group" hint="Empty: the flag's name">
          <input id="r-group" name="group" maxLength={100} value={v('group', p.f.group ?? '')} />
        </Field>
      </div>
    </SectionForm>
  );
}

export function PrerequisitesSection(p: SectionProps) {
  const is = issuesFor(p, 'prerequisites');
  const listed =
    p.refused?.section === 'prerequisites' ? all(p.refused.body, 'prerequisite') : p.f.prerequisites;
  const names = [...new Set([...p.others, ...p.f.prerequisites])].filter((n) => n !== p.f.name);
  return (
    <SectionForm
      {...p}
      section="prerequisites"
      title="Prerequisites"
      hint="Flags that must be on, for the same context."
    >
      {names.length ? (
        <fieldset class="fl-checks">
          <legend>Requires</legend>
          {names.map((n) => (
            <label class="fl-inline">
              <input type="checkbox" name="prerequisite" value={n} checked={listed.includes(n)} /> {n}
            </label>
          ))}
        </fieldset>
      ) : (
        <p class="hint">There is no other flag to require.</p>
      )}
      <FieldAlert issues={is} field="prerequisites" />
    </SectionForm>
  );
}

export function ScheduleSection(p: SectionProps) {
  const is = issuesFor(p, 'schedule');
  const hint = `2026-12-01 10:00 (read in ${p.timeZone}) or 2026-12-01T09:00:00Z; empty: none`;
  return (
    <SectionForm {...p} section="schedule" title="Schedule" hint="On only from the start and until the end.">
      <div class="fl-row">
        <Field id="w-start" label="Start" issues={is} field="start" hint={hint}>
          <input id="w-start" name="start" value={pick(p, 'schedule', 'start', p.f.start ?? '')} />
        </Field>
        <Field id="w-end" label="End" issues={is} field="end" hint={hint}>
          <input id="w-end" name="end" value={pick(p, 'schedule', 'end', p.f.end ?? '')} />
        </Field>
      </div>
    </SectionForm>
  );
}

const windowText = (ms: number) =>
  ms % 3_600_000 === 0
    ? `${ms / 3_600_000}h`
    : ms % 60_000 === 0
      ? `${ms / 60_000}m`
      : `${Math.round(ms / 1000)}s`;

export function ThresholdSection(p: SectionProps) {
  const is = issuesFor(p, 'threshold');
  const t = p.f.errorThreshold;
  return (
    <SectionForm
      {...p}
      section="threshold"
      title="Automatic kill"
      hint="Switched off by the system when this many errors are reported within the window. Both empty: never."
    >
      <div class="fl-row">
        <Field id="k-errors" label="Errors" issues={[]} field="errors">
          <input
            id="k-errors"
            name="errors"
            inputMode="numeric"
            value={pick(p, 'threshold', 'errors', t ? String(t.errors) : '')}
          />
        </Field>
        <Field id="k-window" label="Window" issues={[]} field="window" hint="30s, 5m, 1h (1 s to 24 h)">
          <input
            id="k-window"
            name="window"
            value={pick(p, 'threshold', 'window', t ? windowText(t.windowMs) : '')}
          />
        </Field>
      </div>
      <FieldAlert issues={is} field="errorThreshold" />
    </SectionForm>
  );
}
