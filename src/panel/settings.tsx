import type { FastifyInstance } from 'fastify';
import { CATEGORIES } from '../config/registry.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { Page } from './layout.js';
import { sendHtml } from './render.js';
import { settingsEditRoutes } from './settings-edit.js';
import { pendingOf, rowData, SettingRow, SettingsTable, type RowData } from './settings-row.js';
import type { PanelDeps } from './types.js';

function matches(d: RowData, q: string): boolean {
  if (!q) return true;
  const text = q.toLowerCase();
  return d.e.key.toLowerCase().includes(text) || d.e.description.toLowerCase().includes(text);
}

export function SettingsPage({
  rows,
  session,
  q,
  category,
}: {
  rows: RowData[];
  session: PanelSessionDoc;
  q: string;
  category: string;
}) {
  const shown = rows.filter((d) => matches(d, q) && (!category || d.e.category === category));
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
      {session.access !== 'write' && (
        <p class="hint">Your account may look at the configuration but not change it.</p>
      )}
      {shown.length === 0 && <p>No key matches.</p>}
      {CATEGORIES.filter((c) => shown.some((d) => d.e.category === c)).map((c) => (
        <section aria-labelledby={`cat-${c}`}>
          <h2 id={`cat-${c}`}>{c}</h2>
          <SettingsTable>
            {shown
              .filter((d) => d.e.category === c)
              .map((d) => (
                <SettingRow data={d} />
              ))}
          </SettingsTable>
        </section>
      ))}
    </Page>
  );
}

/** The settings page (every key by category, each editable in place), and its edit routes. */
export function settingsRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  app.get<{ Querystring: { q?: string; category?: string } }>(
    '/panel',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const pending = await pendingOf(config);
      const rows = config.keys().map((k) => rowData(config, session, k, pending));
      const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
      const category = typeof req.query.category === 'string' ? req.query.category : '';
      return sendHtml(reply, <SettingsPage rows={rows} session={session} q={q} category={category} />);
    },
  );
  settingsEditRoutes(app, deps);
}
