import type { FastifyInstance } from 'fastify';
import { CATEGORIES } from '../config/registry.js';
import type { ConfigEntry } from '../config/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { Page, Time } from './layout.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

/** Where a value comes from, in words: the layer that supplies it, or this process's variable. */
function source(e: ConfigEntry): string {
  if (e.override) return `${e.override.variable} (environment variable of this process)`;
  const from = e.layers?.find((l) => l.supplies)?.scope ?? (e.isDefault ? 'default' : 'global');
  return from;
}

function matches(e: ConfigEntry, q: string): boolean {
  if (!q) return true;
  const text = q.toLowerCase();
  return e.key.toLowerCase().includes(text) || e.description.toLowerCase().includes(text);
}

function SettingRow({ e }: { e: ConfigEntry }) {
  const overridden = (e.layers ?? []).filter(
    (l) => l.scope !== 'default' && l.scope !== 'global' && l.display !== undefined,
  );
  return (
    <tr id={`key-${e.key}`}>
      <th scope="row">
        <a href={`/panel/history/${e.key}`}>{e.key}</a>
        <p class="hint">{e.description}</p>
      </th>
      <td class="value">
        <code>{e.display}</code>
        {e.requiresRestart && <p class="hint">Needs a restart to take effect.</p>}
        {e.pending?.map((p) => (
          <p class="hint">{p}</p>
        ))}
      </td>
      <td>
        <code>{e.defaultDisplay}</code>
      </td>
      <td>{e.type}</td>
      <td>
        {source(e)}
        {overridden.length > 0 && (
          <p class="hint">Overridden at {overridden.map((l) => l.scope).join(', ')}</p>
        )}
      </td>
      <td>
        v{e.version}
        {e.updatedBy && (
          <p class="hint">
            {e.updatedBy.tag}, <Time at={e.updatedAt} />
          </p>
        )}
      </td>
    </tr>
  );
}

export function SettingsPage({
  entries,
  session,
  q,
  category,
}: {
  entries: ConfigEntry[];
  session: PanelSessionDoc;
  q: string;
  category: string;
}) {
  const shown = entries.filter((e) => matches(e, q) && (!category || e.category === category));
  return (
    <Page title="Settings" session={session} current="/panel">
      <form class="filters" method="get" action="/panel" role="search">
        <label>
          Search <input type="search" name="q" value={q} placeholder="Key or description" />
        </label>
        <label>
          Category{' '}
          <select name="category">
            <option value="">All</option>
            {CATEGORIES.map((c) => (
              <option value={c} selected={c === category}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {shown.length === 0 && <p>No key matches.</p>}
      {CATEGORIES.filter((c) => shown.some((e) => e.category === c)).map((c) => (
        <section aria-labelledby={`cat-${c}`}>
          <h2 id={`cat-${c}`}>{c}</h2>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Value</th>
                  <th scope="col">Default</th>
                  <th scope="col">Type</th>
                  <th scope="col">From</th>
                  <th scope="col">Version</th>
                </tr>
              </thead>
              <tbody>
                {shown
                  .filter((e) => e.category === c)
                  .map((e) => (
                    <SettingRow e={e} />
                  ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </Page>
  );
}

export function settingsRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  app.get<{ Querystring: { q?: string; category?: string } }>(
    '/panel',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const entries = config.keys().map((k) => config.describe(k, { guildId: session.guildId }));
      const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
      const category = typeof req.query.category === 'string' ? req.query.category : '';
      return sendHtml(reply, <SettingsPage entries={entries} session={session} q={q} category={category} />);
    },
  );
}
