import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildExport } from '../../src/transfer/export-file.js';
import { startTestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';
import { formFields } from './form-fields.js';

const bob = { id: '200000000000000002', tag: 'bob' };
const SECRET = 'https://hooks.example.com/s3cr3t-token';

/** A panel with an encryption key, MAX_BATCH_SIZE at 200 and a secret webhook. */
async function seeded(label: string) {
  const api = await startTestApi(label, {
    vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
  });
  await api.runtime.config.set('MAX_BATCH_SIZE', '200', bob);
  await api.runtime.config.set('EXPORT_WEBHOOK_URL', SECRET, bob);
  return api;
}

/** An export file of `api` with MAX_BATCH_SIZE 300 (valid) and LOG_LEVEL loud (invalid). */
async function editedFile(api: Awaited<ReturnType<typeof seeded>>): Promise<string> {
  const { file } = await buildExport(api.runtime.config);
  const keys = file.keys as Record<string, { values: Record<string, unknown> }>;
  (keys.MAX_BATCH_SIZE as { values: Record<string, unknown> }).values.global = { value: 300, version: 2 };
  (keys.LOG_LEVEL as { values: Record<string, unknown> }).values.global = {
    value: 'loud<img src=x onerror=alert(1)>',
    version: 1,
  };
  return JSON.stringify(file, null, 2);
}

describe('panel export', () => {
  it('downloads the file /config export makes, as an attachment, sensitive values left out, audited', async () => {
    const api = await seeded('panel_export');
    const member = await loginPanel(api, panelIdentity('member'));
    const page = await member.page('/panel/export');
    expect(page).toContain('Download the export');
    expect(page).not.toContain('name="secrets"');
    const res = await member.fetch('/panel/export', { form: {} });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="config-export-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json"$/,
    );
    const text = await res.text();
    expect(text).not.toContain('s3cr3t');
    const file = JSON.parse(text) as Record<string, unknown> & { keys: Record<string, { values: unknown }> };
    const { file: same } = await buildExport(api.runtime.config);
    expect({ ...file, exportedAt: '' }).toEqual({ ...same, exportedAt: '' });
    expect(file.keys.MAX_BATCH_SIZE?.values).toEqual({ global: { value: 200, version: 2 } });
    expect(file.keys.EXPORT_WEBHOOK_URL?.values).toEqual({ global: { omitted: 'sensitive', version: 2 } });
    const [row] = await api.runtime.config.auditLog({ action: 'export' });
    expect(row).toMatchObject({
      key: '*',
      status: 'success',
      channelId: 'panel',
      actor: member.session.user,
    });
    expect(row?.reason).toContain('1 sensitive left out');
  });

  it('exports sensitive values encrypted for an admin only; a member asking is refused and audited', async () => {
    const api = await seeded('panel_export_secrets');
    const member = await loginPanel(api, panelIdentity('member'));
    const refused = await member.fetch('/panel/export', { form: { secrets: '1' } });
    expect(refused.status).toBe(403);
    const [denied] = await api.runtime.config.auditLog({ action: 'export', status: 'denied' });
    expect(denied).toMatchObject({ channelId: 'panel', actor: member.session.user });
    const admin = await loginPanel(api);
    const res = await admin.fetch('/panel/export', { form: { secrets: '1', scope: 'global' } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('s3cr3t');
    const file = JSON.parse(text) as {
      scope: string;
      keys: Record<string, { values: Record<string, unknown> }>;
    };
    expect(file.scope).toBe('global');
    expect(file.keys.EXPORT_WEBHOOK_URL?.values.global).toMatchObject({
      encrypted: { enc: 'aes-256-gcm:v2' },
    });
    // A scope that does not exist is refused with Discord's message, audited as failed.
    const bad = await admin.fetch('/panel/export', { form: { scope: 'env:nowhere' } });
    expect(bad.status).toBe(400);
    const [failed] = await api.runtime.config.auditLog({ action: 'export', status: 'failed' });
    expect(failed).toMatchObject({ channelId: 'panel' });
  });
});

describe('panel import', () => {
  it('dry-runs a file reporting the valid change and the refused value, changing nothing; Apply imports the valid one', async () => {
    const api = await seeded('panel_import');
    const config = api.runtime.config;
    const admin = await loginPanel(api);
    const res = await admin.fetch('/panel/import', {
      form: { file: await editedFile(api), filename: 'staging.json' },
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('Dry run: import of staging.json');
    expect(html).toContain('1 to change');
    expect(html).toContain('1 invalid');
    expect(html).toMatch(
      /<code>MAX_BATCH_SIZE<\/code>.*?changes<\/span><\/td><td data-label="Detail"><del>200<\/del> → <ins>300<\/ins>/,
    );
    expect(html).toMatch(/<code>LOG_LEVEL<\/code>.*?refused<\/span><\/td><td data-label="Detail">[^<]*loud/);
    expect(html).toContain('Nothing was changed (dry run).');
    // The refused value is shown as text, never as markup.
    expect(html).toContain('loud&lt;img src=x onerror=alert(1)>');
    expect(html).not.toContain('<img');
    expect(html).toContain('Apply 1 change');
    expect(config.get('MAX_BATCH_SIZE')).toBe(200);
    const [check] = await config.auditLog({ action: 'import-check' });
    expect(check).toMatchObject({ status: 'success', channelId: 'panel' });
    expect(check?.reason).toContain('dry run: staging.json: 1 to change');

    const fields = formFields(html, '/panel/import/apply');
    const done = await admin.fetch('/panel/import/apply', { form: fields });
    const result = await done.text();
    expect(done.status).toBe(200);
    expect(result).toContain('Imported 1 of 1 changes from staging.json');
    expect(config.get('MAX_BATCH_SIZE')).toBe(300);
    expect(config.get('LOG_LEVEL')).toBe('info');
    const [v] = await config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(v).toMatchObject({ version: 3, action: 'import' });
    expect(v?.actor).toEqual(admin.session.user);
    const [row] = await config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'import' });
    expect(row).toMatchObject({ status: 'success', channelId: 'panel', version: 3 });
  });

  it('refuses an Apply whose dry run is stale, and changes nothing', async () => {
    const api = await seeded('panel_import_stale');
    const admin = await loginPanel(api);
    const html = await admin
      .fetch('/panel/import', { form: { file: await editedFile(api) } })
      .then((r) => r.text());
    await api.runtime.config.set('MAX_BATCH_SIZE', '250', bob);
    const res = await admin.fetch('/panel/import/apply', { form: formFields(html, '/panel/import/apply') });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('Check the file again');
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(250);
  });

  it('refuses a file that is not JSON with a clear message, audited, nothing changed', async () => {
    const api = await seeded('panel_import_bad');
    const admin = await loginPanel(api);
    for (const path of ['/panel/import', '/panel/import/apply']) {
      const res = await admin.fetch(path, { form: { file: 'MAX_BATCH_SIZE=1 {', filename: 'x.json' } });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(
        'Not an export file this bot can import: it is not valid JSON. Nothing was changed.',
      );
    }
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(200);
    const failed = await api.runtime.config.auditLog({ action: 'import', status: 'failed' });
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ channelId: 'panel' });
    const [last] = await api.runtime.config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(last?.version).toBe(2);
  });

  it('shows a read-only session no import form and refuses its import (403)', async () => {
    const api = await seeded('panel_import_member');
    const member = await loginPanel(api, panelIdentity('member'));
    const page = await member.page('/panel/import');
    expect(page).not.toContain('action="/panel/import"');
    expect(page).toContain('may look at the configuration but not import');
    const file = await editedFile(api);
    for (const path of ['/panel/import', '/panel/import/apply'])
      expect((await member.fetch(path, { form: { file } })).status).toBe(403);
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(200);
    const [denied] = await api.runtime.config.auditLog({ action: 'import', status: 'denied' });
    expect(denied).toMatchObject({ channelId: 'panel', actor: member.session.user });
    // A server's own admin neither exports nor imports: the file covers every server.
    const own = await loginPanel(api, panelIdentity('selfservice'));
    expect((await own.fetch('/panel/export')).status).toBe(403);
    expect((await own.fetch('/panel/export', { form: {} })).status).toBe(403);
    expect((await own.fetch('/panel/import', { form: { file } })).status).toBe(403);
  });
});
