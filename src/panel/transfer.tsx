import type { FastifyInstance } from 'fastify';
import { UserError } from '../base/errors.js';
import { buildExport } from '../transfer/export-file.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { PanelRefusal } from './guard.js';
import { CsrfField, Page } from './layout.js';
import { sendHtml } from './render.js';
import { importRoutes } from './transfer-import.js';
import { contextOf, field, wholeConfiguration } from './transfer-write.js';
import type { PanelDeps } from './types.js';

// The configuration export from the panel: the same file /config export attaches (buildExport),
// downloaded as an attachment, sensitive values left out or, for admins, sealed under the current
// encryption key, never in clear. Audited as `export`, refusals included. The download is a POST
// with the form token, so another site cannot make a browser export (and be audited) in its name.

function ExportPage({ session }: { session: PanelSessionDoc }) {
  const admin = session.access === 'write';
  return (
    <Page title="Export" session={session} current="/panel/export">
      <p class="hint">
        Every value in every scope as a JSON file, the same file <code>/config export</code> attaches in
        Discord. Import it here or with <code>/config import</code>.
      </p>
      <form method="post" action="/panel/export" class="card tr-form">
        <CsrfField session={session} />
        <label>
          Only this scope (optional)
          <input name="scope" maxlength={40} placeholder="global, env:staging, guild:<server id>" />
        </label>
        {admin ? (
          <label class="tr-check">
            <input type="checkbox" name="secrets" value="1" /> Include sensitive values, encrypted (needs
            CONFIG_ENCRYPTION_KEYS; only a bot with that key can import them)
          </label>
        ) : (
          <p class="hint">Sensitive values are left out (admins can export them encrypted).</p>
        )}
        <p>
          <button type="submit">Download the export</button>
        </p>
      </form>
      {admin && (
        <p>
          To apply a file, use <a href="/panel/import">Import</a>.
        </p>
      )}
    </Page>
  );
}

export function transferRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;

  app.get('/panel/export', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    return sendHtml(reply, <ExportPage session={session} />);
  });

  app.post<{ Body: Record<string, string | undefined> }>(
    '/panel/export',
    { config: { access: 'public', panel: 'read', panelAction: 'export' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      wholeConfiguration(session);
      const secrets = field(req.body, 'secrets') === '1';
      const scope = field(req.body, 'scope') || null;
      const row = {
        key: '*',
        action: 'export' as const,
        actor: session.user,
        ...(scope ? { scope: scope.slice(0, 40) } : {}),
        ...contextOf(session),
      };
      // Read access exports what the settings page shows; sealed secrets are for admins.
      if (secrets && session.access !== 'write') {
        const why = 'Only an admin may export sensitive values, even encrypted.';
        await config.audit.record({ ...row, status: 'denied', error: why });
        throw new PanelRefusal(403, why);
      }
      let built;
      try {
        built = await buildExport(config, { scope, secrets });
      } catch (err) {
        if (err instanceof UserError)
          await config.audit.record({ ...row, status: 'failed', error: err.message });
        throw err;
      }
      const what = `${built.values} values${built.omitted ? `, ${built.omitted} sensitive left out` : ''}`;
      await config.audit.record({
        ...row,
        status: 'success',
        reason: `panel export of ${scope ?? 'every scope'}: ${what}${secrets ? ', sensitive values encrypted' : ''}`,
      });
      const name = `config-export-${built.file.exportedAt.replace(/[:.]/g, '-')}.json`;
      return reply
        .code(200)
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(built.text);
    },
  );

  importRoutes(app, deps);
}
