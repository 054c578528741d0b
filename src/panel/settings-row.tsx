import type { ComponentChildren } from 'preact';
import { formatDuration } from '../config/kinds.js';
import { present } from '../config/present.js';
import type { RegisteredKey } from '../config/registry.js';
import type { ConfigEntry } from '../config/types.js';
import type { ScheduleDoc } from '../storage/schedules.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Time } from './layout.js';
import { scopesFor, type EditForm } from './settings-form.js';
import type { PanelDeps } from './types.js';

/** Everything one key's row shows. */
export interface RowData {
  e: ConfigEntry;
  def: RegisteredKey;
  session: PanelSessionDoc;
  /** The scopes the session may write at; empty: the row has no edit form. */
  scopes: string[];
  pending: ScheduleDoc[];
  /** SCHEDULE_TIMEZONE, which `at` is read in. */
  timeZone: string;
}

/** What a row shows beyond the key's state: the form as typed, and an answer under it. */
export interface RowExtra {
  form?: EditForm | undefined;
  out?: ComponentChildren;
  open?: boolean;
}

/** Where a value comes from, in words: the layer that supplies it, or this process's variable. */
function source(e: ConfigEntry): string {
  if (e.override) return `${e.override.variable} (environment variable of this process)`;
  return e.layers?.find((l) => l.supplies)?.scope ?? (e.isDefault ? 'default' : 'global');
}

/**
 * One key as a table row: value, default, type, where it comes from, version, what is pending,
 * and for a session that may change it the edit form (preview, then apply). `data-live-*` let
 * the page fetch the row again when the key changes elsewhere.
 */
export function SettingRow({ data, extra = {} }: { data: RowData; extra?: RowExtra }) {
  const { e, pending } = data;
  const overridden = (e.layers ?? []).filter(
    (l) => l.scope !== 'default' && l.scope !== 'global' && l.display !== undefined,
  );
  const editable = data.scopes.length > 0;
  return (
    <tr
      id={`key-${e.key}`}
      class={extra.open ? 'editing' : undefined}
      data-live-key={e.key}
      data-live-src={`/panel/settings/${e.key}/row`}
    >
      <th scope="row">
        <a href={`/panel/history/${e.key}`}>{e.key}</a>
        <p class="hint">{e.description}</p>
      </th>
      <td class="value" data-label="Value">
        <code>{e.display}</code>
        {e.requiresRestart && <p class="hint">Needs a restart to take effect.</p>}
        {pending.length > 0 && <PendingList data={data} />}
      </td>
      <td data-label="Default">
        <code>{e.defaultDisplay}</code>
      </td>
      <td data-label="Type">{e.type}</td>
      <td data-label="From">
        {source(e)}
        {overridden.length > 0 && (
          <p class="hint">Overridden at {overridden.map((l) => l.scope).join(', ')}</p>
        )}
      </td>
      <td data-label="Version">
        v{e.version}
        {e.updatedBy && (
          <p class="hint">
            {e.updatedBy.tag}, <Time at={e.updatedAt} />
          </p>
        )}
      </td>
      {editable && (
        <td class="edit" data-label="Change">
          <details open={extra.open}>
            <summary>
              Edit<span class="sr-only"> {e.key}</span>
            </summary>
            <EditFormView data={data} extra={extra} />
          </details>
        </td>
      )}
    </tr>
  );
}

/** The edit form: value, scope, reason, `for`, `at`; Preview shows the dry run under it. */
function EditFormView({ data, extra }: { data: RowData; extra: RowExtra }) {
  const { e, def, session, scopes } = data;
  const k = e.key;
  const form = extra.form;
  const out = `out-${k}`;
  return (
    <form
      id={`edit-${k}`}
      class="edit-form"
      method="post"
      action={`/panel/settings/${k}/preview`}
      hx-post={`/panel/settings/${k}/preview`}
      hx-target={`#${out}`}
      hx-swap="innerHTML"
      data-error-target={`#${out}`}
    >
      <CsrfField session={session} />
      <div class="field">
        <label for={`value-${k}`}>
          Value<span class="sr-only"> of {k}</span>
        </label>
        {/* A secret typed once is never written back into a page. */}
        {def.sensitive ? (
          <input
            id={`value-${k}`}
            name="value"
            type="password"
            autocomplete="off"
            required
            maxLength={4000}
            placeholder="New secret value"
            aria-describedby={`type-${k}`}
          />
        ) : (
          <input
            id={`value-${k}`}
            name="value"
            type="text"
            autocomplete="off"
            required
            maxLength={4000}
            value={form?.value}
            placeholder={e.display}
            list={def.choices ? `choices-${k}` : undefined}
            aria-describedby={`type-${k}`}
          />
        )}
        <p class="hint" id={`type-${k}`}>
          {def.type}
        </p>
        {def.choices && (
          <datalist id={`choices-${k}`}>
            {def.choices.map((c) => (
              <option value={c} />
            ))}
          </datalist>
        )}
      </div>
      <div class="field">
        <label for={`scope-${k}`}>
          Scope<span class="sr-only"> of {k}</span>
        </label>
        <select id={`scope-${k}`} name="scope">
          {scopes.map((s) => (
            <option value={s} selected={s === (form?.scope || scopes[0])}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div class="field wide">
        <label for={`reason-${k}`}>
          Reason<span class="sr-only"> for changing {k}</span> <span class="hint">(optional)</span>
        </label>
        <input id={`reason-${k}`} name="reason" type="text" maxLength={500} value={form?.reason} />
      </div>
      {!def.sensitive && (
        <fieldset class="timing wide">
          <legend>When (optional)</legend>
          <div class="field">
            <label for={`for-${k}`}>For</label>
            <input
              id={`for-${k}`}
              name="for"
              type="text"
              maxLength={10}
              value={form?.forText}
              aria-describedby={`for-hint-${k}`}
            />
            <p class="hint" id={`for-hint-${k}`}>
              Temporary, e.g. 2h: then the value it replaced comes back.
            </p>
          </div>
          <div class="field">
            <label for={`at-${k}`}>At</label>
            <input
              id={`at-${k}`}
              name="at"
              type="text"
              maxLength={60}
              value={form?.atText}
              aria-describedby={`at-hint-${k}`}
            />
            <p class="hint" id={`at-hint-${k}`}>
              Scheduled, e.g. tomorrow 18:00 ({data.timeZone}, SCHEDULE_TIMEZONE).
            </p>
          </div>
        </fieldset>
      )}
      <div class="wide">
        <button type="submit">Preview</button>
      </div>
      <div id={out} class="out wide" aria-live="polite">
        {extra.out}
      </div>
    </form>
  );
}

/** What is waiting to happen to the key, each with Cancel for a session that may. */
function PendingList({ data }: { data: RowData }) {
  const { def, session } = data;
  // As /config pending: cancelling is for admins, not for a server's own (self-service) admins.
  const canCancel = session.access === 'write' && !session.ownScope;
  return (
    <ul class="pending" aria-label={`Pending changes of ${def.key}`}>
      {data.pending.map((d) => (
        <li>
          <PendingText def={def} doc={d} />
          {canCancel && (
            <form
              method="post"
              action={`/panel/settings/${def.key}/pending/${d._id}/cancel`}
              hx-post={`/panel/settings/${def.key}/pending/${d._id}/cancel`}
              hx-target="closest tr"
              hx-swap="outerHTML"
              data-error-target="closest li"
            >
              <CsrfField session={session} />
              <button type="submit" class="secondary">
                Cancel
                <span class="sr-only"> {d.kind === 'expire' ? 'the expiry' : 'the scheduled change'}</span>
              </button>
            </form>
          )}
        </li>
      ))}
    </ul>
  );
}

/** A pending change in words (the panel's counterpart of Discord's describePending). */
function PendingText({ def, doc }: { def: RegisteredKey; doc: ScheduleDoc }) {
  const at = doc.scope === 'global' ? '' : ` at ${doc.scope}`;
  if (doc.kind === 'expire')
    return (
      <span>
        Temporary{at} until <Time at={doc.runAt} />, then{' '}
        {doc.unset ? 'inherits again' : <code>{present(def, doc.value)}</code>}
        {doc.reason && <> · {doc.reason}</>}
      </span>
    );
  return (
    <span>
      Becomes <code>{present(def, doc.value)}</code>
      {at} at <Time at={doc.runAt} />
      {doc.thenForMs !== undefined && <>, for {formatDuration(doc.thenForMs)}</>} (scheduled by{' '}
      {doc.createdBy.tag}
      {doc.reason && <>: {doc.reason}</>})
    </span>
  );
}

/** A key's row data for a session; `pending` as read (all keys' at once for the page). */
export function rowData(
  config: PanelDeps['config'],
  session: PanelSessionDoc,
  key: string,
  pending: readonly ScheduleDoc[],
): RowData {
  const def = config.definition(key);
  return {
    e: config.describe(def.key, { guildId: session.guildId }),
    def,
    session,
    scopes: scopesFor(def, config.environments, session),
    pending: pending.filter((d) => d.key === def.key),
    timeZone: String(config.get('SCHEDULE_TIMEZONE')),
  };
}

/** Pending changes of one key or all, soonest first; none when the database cannot say (the page still shows). */
export async function pendingOf(config: PanelDeps['config'], key?: string): Promise<ScheduleDoc[]> {
  return config.timed.pending(key).catch(() => []);
}

/** The table of a category's rows (stacked as cards on narrow screens, see panel.css). */
export function SettingsTable({ children }: { children?: ComponentChildren }) {
  return (
    <div class="scroll">
      <table class="settings">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
            <th scope="col">Default</th>
            <th scope="col">Type</th>
            <th scope="col">From</th>
            <th scope="col">Version</th>
            <th scope="col">
              <span class="sr-only">Change</span>
            </th>
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
