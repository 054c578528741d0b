import type { FlagDefinition } from '@config-bot/client/flags';
import type { Staleness } from '../flags/lifecycle.js';
import type { FlagVersion, StoredFlag } from '../flags/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import type { FieldIssue } from './flags-edit.js';
import type { FlagOutcome } from './flags-write.js';
import { EnvState, FieldAlert, onIn, rulesText } from './flags-list.js';
import { PlaygroundAnswer, type PlaygroundInput, type PlaygroundResult } from './flags-playground.js';
import { ConditionsSection, VariantsSection } from './flags-rows.js';
import {
  DetailsSection,
  EnvironmentsSection,
  PrerequisitesSection,
  RolloutSection,
  ScheduleSection,
  TargetingSection,
  ThresholdSection,
  type SectionProps,
} from './flags-sections.js';
import { UsageSection, type FlagUsageView } from './flags-usage.js';
import { CsrfField, Page, Time } from './layout.js';

export interface Playground {
  input: PlaygroundInput;
  issues: FieldIssue[];
  result?: PlaygroundResult | undefined;
}

export interface FlagPageProps extends Omit<SectionProps, 'f' | 'version'> {
  held: StoredFlag;
  stale: Staleness;
  usage: FlagUsageView;
  versions: FlagVersion[];
  playground: Playground;
  /** What the last write did (after a form was sent). */
  outcome?: FlagOutcome | undefined;
  /** This process's environment: the playground's default. */
  here: string;
}

/** What a write did, said at the top of the page. */
export function OutcomeNotice({ outcome }: { outcome: FlagOutcome | undefined }) {
  if (!outcome) return null;
  switch (outcome.kind) {
    case 'done':
      return (
        <div class="card fl-notice ok" role="status">
          <p>
            Saved as version {outcome.write.version}: {outcome.write.changes.join('; ') || 'no field changed'}
            .
          </p>
          {outcome.warnings.map((w) => (
            <p class="warn">{w}</p>
          ))}
        </div>
      );
    case 'request':
      return (
        <div class="card fl-notice warn" role="status">
          <p>
            Not applied yet: this flag's impact needs {outcome.request.required} approval
            {outcome.request.required === 1 ? '' : 's'} from another admin. Change request{' '}
            <a href={`/panel/requests/${outcome.request.id}`}>{outcome.request.id}</a> was created; it expires{' '}
            <Time at={outcome.request.expiresAt} />.
          </p>
        </div>
      );
    case 'unchanged':
      return (
        <p class="card fl-notice" role="status">
          {outcome.message}
        </p>
      );
    case 'refused':
      return (
        <p class="error" role="alert">
          Not saved: {outcome.issues.length ? 'see the fields marked below.' : outcome.error.message}
        </p>
      );
  }
}

/** The kill switch and one switch per environment, each a small form. */
function Switches({
  f,
  version,
  session,
  environments,
}: { f: FlagDefinition; version: number } & Pick<SectionProps, 'session' | 'environments'>) {
  const write = session.access === 'write' && !session.ownScope && !f.archived;
  const envs = [...new Set([...environments, ...f.environments])];
  const button = (to: 'on' | 'off', env: string | undefined, label: string) => (
    <form method="post" action={`/panel/flags/${f.name}/switch`} class="fl-inline-form">
      <CsrfField session={session} />
      <input type="hidden" name="version" value={String(version)} />
      <input type="hidden" name="to" value={to} />
      {env && <input type="hidden" name="env" value={env} />}
      <button type="submit" class={to === 'off' ? (env ? 'secondary' : 'danger') : undefined}>
        {label}
      </button>
    </form>
  );
  return (
    <section aria-labelledby="switches" class="card">
      <h2 id="switches">On and off</h2>
      <div class="fl-switches">
        <div class="fl-switch">
          <span>
            Kill switch:{' '}
            <strong class={f.enabled ? 'ok' : 'error'}>
              {f.enabled ? 'running (not killed)' : 'killed: off for everyone'}
            </strong>
          </span>
          {write &&
            (f.enabled
              ? button('off', undefined, 'Kill: turn off everywhere')
              : button('on', undefined, 'Turn on'))}
        </div>
        {envs.map((e) => (
          <div class="fl-switch">
            <span>
              {e}: <EnvState f={f} env={e} />
              {f.enabled && !f.environments.includes(e) && (
                <span class="hint"> (not in its environments)</span>
              )}
              {!f.enabled && f.environments.includes(e) && <span class="hint"> (listed; killed)</span>}
            </span>
            {write &&
              (f.environments.includes(e)
                ? button('off', e, `Turn off in ${e}`)
                : button('on', e, `Turn on in ${e}`))}
          </div>
        ))}
      </div>
    </section>
  );
}

/** The playground: a context in, the engine's answer and its reason out. */
function PlaygroundForm({
  name,
  playground,
  environments,
  here,
}: {
  name: string;
  playground: Playground;
  environments: readonly string[];
  here: string;
}) {
  const { input, issues, result } = playground;
  return (
    <section aria-labelledby="playground-h" class="card" id="playground">
      <h2 id="playground-h">Evaluation playground</h2>
      <p class="hint">
        A context, evaluated by the same engine applications use, with the rule that decided. Attributes: one
        key=value a line.
      </p>
      <form
        method="get"
        action={`/panel/flags/${name}#playground`}
        class="fl-stack"
        hx-get={`/panel/flags/${name}/evaluate`}
        hx-target="#playground-result"
        hx-swap="innerHTML"
      >
        <input type="hidden" name="try" value="1" />
        <div class="fl-row">
          <label>
            User id <input name="user" value={input.user} inputMode="numeric" maxLength={100} />
          </label>
          <label>
            Server id <input name="server" value={input.server} inputMode="numeric" maxLength={100} />
          </label>
          <label>
            Environment{' '}
            <select name="env">
              {[...new Set([...environments, here])].map((e) => (
                <option selected={e === (input.env || here)}>{e}</option>
              ))}
            </select>
          </label>
        </div>
        <label>
          Role ids <input name="roles" value={input.roles} placeholder="separated by spaces or commas" />
        </label>
        <label>
          Attributes{' '}
          <textarea name="attributes" rows={3} placeholder={'plan=pro\napp.version=2.1.0'}>
            {input.attributes}
          </textarea>
        </label>
        <FieldAlert issues={issues} field="attributes" />
        <label>
          At (optional) <input name="at" value={input.at} placeholder="2026-05-01T09:00:00Z" />
        </label>
        <FieldAlert issues={issues} field="at" />
        <div>
          <button type="submit">Evaluate</button>
        </div>
      </form>
      <div id="playground-result">{result && <PlaygroundAnswer result={result} />}</div>
    </section>
  );
}

function Versions({ name, versions, write }: { name: string; versions: FlagVersion[]; write: boolean }) {
  const current = versions[0]?.version;
  return (
    <section aria-labelledby="versions" class="card">
      <h2 id="versions">Recent versions</h2>
      <ol class="fl-versions">
        {versions.map((v) => (
          <li>
            <strong>v{v.version}</strong> {v.action}
            {v.restoredFrom ? ` of v${v.restoredFrom}` : ''} by {v.actor.tag}, <Time at={v.createdAt} />
            {v.reason && <q>{v.reason}</q>}
            {write && v.version !== current && (
              <>
                {' '}
                <a href={`/panel/flags/${name}/rollback?to=${v.version}`}>Roll back to v{v.version}</a>
              </>
            )}
            <ul class="hint">
              {v.changes.map((c) => (
                <li>{c}</li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      <p class="hint">
        Every version and audit row: <a href={`/panel/audit?key=flag:${name}`}>audit of this flag</a>.
      </p>
    </section>
  );
}

export function FlagPage(p: FlagPageProps) {
  const { held, stale, session } = p;
  const f = held.flag;
  const write = session.access === 'write' && !session.ownScope;
  return (
    <Page title={`Flag ${f.name}`} session={session} current="/panel/flags">
      <p>
        <a href="/panel/flags">← All flags</a>
      </p>
      <OutcomeNotice outcome={p.outcome} />
      {/* No fragment to fetch (every form holds the version): a change elsewhere offers a reload. */}
      <div class="card fl-summary" data-live-key={`flag:${f.name}`} data-live-version={String(held.version)}>
        <p>{f.description}</p>
        <p>
          <span class="fl-tag">{f.type}</span> <span class="fl-tag">impact {f.impact}</span> owner {f.owner} ·
          v{held.version}, {held.updatedBy.tag}, <Time at={held.updatedAt} />
          {f.archived && <span class="fl-tag fl-tag-off">archived</span>}
          {stale.stale && <span class="fl-tag fl-tag-warn">stale</span>}
          {!p.usage.lastEvaluated && <span class="fl-tag fl-tag-muted">never evaluated</span>}
        </p>
        {stale.why && <p class="warn">Stale: {stale.why}</p>}
        <p>
          On in: {p.environments.filter((e) => onIn(f, e)).join(', ') || 'no environment of this deployment'}{' '}
          · {rulesText(f)}
        </p>
      </div>
      {session.access !== 'write' && (
        <p class="hint">Read only: your account may look at flags but not change them.</p>
      )}
      {f.archived && (
        <p class="warn">
          Archived: off everywhere. Roll it back to a version before the archive to use it again.
        </p>
      )}
      <div class="fl-cols">
        <div class="fl-col">
          <Switches f={f} version={held.version} session={session} environments={p.environments} />
          <UsageSection usage={p.usage} />
          <Versions name={f.name} versions={p.versions} write={write} />
        </div>
        <div class="fl-col">
          <PlaygroundForm
            name={f.name}
            playground={p.playground}
            environments={p.environments}
            here={p.here}
          />
        </div>
      </div>
      <h2>Definition, in the order it is evaluated</h2>
      <div class="fl-grid">
        <AllSections {...p} f={f} version={held.version} />
      </div>
      {write && !f.archived && (
        <section aria-labelledby="archive-h" class="card">
          <h2 id="archive-h">Archive</h2>
          <p class="hint">Off everywhere and out of the list; names are not reused. It can be rolled back.</p>
          <form method="post" action={`/panel/flags/${f.name}/archive`}>
            <CsrfField session={session} />
            <input type="hidden" name="version" value={String(held.version)} />
            <button type="submit" class="danger">
              Archive {f.name}
            </button>
          </form>
        </section>
      )}
    </Page>
  );
}

/** Switching off in production asks first, as /flag off does. */
export function ConfirmOffPage(p: {
  session: PanelSessionDoc;
  f: FlagDefinition;
  version: number;
  env: string | undefined;
}) {
  const what = p.env ? `off in ${p.env}` : 'off everywhere (kill switch)';
  return (
    <Page title={`Turn ${p.f.name} off?`} session={p.session} current="/panel/flags">
      <p class="warn">
        {p.f.name} is on in production: turning it {what} changes what production users see at once.
      </p>
      <form method="post" action={`/panel/flags/${p.f.name}/switch`} class="fl-stack">
        <CsrfField session={p.session} />
        <input type="hidden" name="version" value={String(p.version)} />
        <input type="hidden" name="to" value="off" />
        <input type="hidden" name="confirm" value="1" />
        {p.env && <input type="hidden" name="env" value={p.env} />}
        <label>
          Reason <input name="reason" maxLength={500} />
        </label>
        <div class="fl-row">
          <button type="submit" class="danger">
            Turn {what}
          </button>
          <a href={`/panel/flags/${p.f.name}`}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}

/** Every section, in the order the engine evaluates them. */
export function AllSections(p: SectionProps) {
  return (
    <>
      <EnvironmentsSection {...p} />
      <ScheduleSection {...p} />
      <TargetingSection {...p} />
      <PrerequisitesSection {...p} />
      <ConditionsSection {...p} />
      <RolloutSection {...p} />
      <VariantsSection {...p} />
      <ThresholdSection {...p} />
      <DetailsSection {...p} />
    </>
  );
}
