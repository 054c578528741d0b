import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity, type PanelClient } from '../helpers/panel.js';
import { formFields } from './form-fields.js';

const bob = { id: '200000000000000002', tag: 'bob' };
const XSS = '<img src=x onerror=alert(1)>';

/** A panel where MAX_BATCH_SIZE is 200 and an admin took snapshot `before` of it. */
async function withSnapshot(label: string, vars: Record<string, string> = {}) {
  const api = await startTestApi(label, { vars });
  await api.runtime.config.set('MAX_BATCH_SIZE', '200', bob);
  const admin = await loginPanel(api);
  const made = await admin.fetch('/panel/snapshots', {
    form: { name: 'before', description: `raise ${XSS}` },
  });
  expect(made.status).toBe(303);
  expect(made.headers.get('location')).toBe('/panel/snapshots/before?created=1');
  return { api, admin };
}

async function previewRestore(admin: PanelClient) {
  const res = await admin.fetch('/panel/snapshots/before/restore', { form: { to: '' } });
  const html = await res.text();
  expect(res.status).toBe(200);
  return html;
}

describe('panel snapshots', () => {
  it('creates a snapshot, audited with channel panel, and lists and shows it (description escaped)', async () => {
    const { api, admin } = await withSnapshot('panel_snap_create');
    const [row] = await api.runtime.config.auditLog({ action: 'snapshot-create' });
    expect(row).toMatchObject({ key: 'snapshot:before', status: 'success', channelId: 'panel' });
    expect(row?.actor).toEqual(admin.session.user);
    const page = await admin.page('/panel/snapshots/before?created=1');
    expect(page).toContain('Snapshot before created');
    expect(page).toMatch(
      /<code>MAX_BATCH_SIZE<\/code><\/th><td data-label="Version">v2<\/td><td data-label="Value"><code>200<\/code>/,
    );
    expect(page).toContain('raise &lt;img src=x onerror=alert(1)>');
    expect(page).not.toContain('<img');
    const list = await admin.page('/panel/snapshots');
    expect(list).toContain('<a href="/panel/snapshots/before">before</a>');
    expect(list).toContain('Create snapshot');
    // Names are checked as Discord checks them; a taken name is refused.
    const bad = await admin.fetch('/panel/snapshots', { form: { name: 'Not A Name' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is not a snapshot name');
    const again = await admin.fetch('/panel/snapshots', { form: { name: 'before' } });
    expect(again.status).toBe(409);
    expect(await admin.fetch('/panel/snapshots/nothing-here').then((r) => r.status)).toBe(404);
  });

  it('diffs a snapshot with the current values', async () => {
    const { api, admin } = await withSnapshot('panel_snap_diff');
    await api.runtime.config.set('MAX_BATCH_SIZE', '300', bob);
    const html = await admin.page('/panel/snapshots/before/diff?against=now');
    expect(html).toContain('before → now');
    expect(html).toContain('1 different');
    expect(html).toMatch(
      /<code>MAX_BATCH_SIZE<\/code><\/th><td data-label="before"><del>200<\/del><\/td><td data-label="now"><ins>300<\/ins>/,
    );
  });

  it('restores after a preview: the difference first, nothing written; Confirm writes a new version audited as panel', async () => {
    const { api, admin } = await withSnapshot('panel_snap_restore');
    const config = api.runtime.config;
    await config.set('MAX_BATCH_SIZE', '300', bob);
    const html = await previewRestore(admin);
    expect(html).toContain('Restore snapshot before?');
    expect(html).toContain('1 value changes');
    expect(html).toMatch(
      /<code>MAX_BATCH_SIZE<\/code><\/th><td data-label="Now"><del>300<\/del><\/td><td data-label="After"><ins>200<\/ins>/,
    );
    expect(html).toContain('Applies at once when confirmed');
    expect(html).toContain('Nothing has changed yet.');
    expect(config.get('MAX_BATCH_SIZE')).toBe(300);

    const fields = formFields(html, '/panel/snapshots/before/restore/confirm');
    const done = await admin.fetch('/panel/snapshots/before/restore/confirm', {
      form: { ...fields, reason: 'undo the raise' },
    });
    const result = await done.text();
    expect(done.status).toBe(200);
    expect(result).toContain('Restored snapshot before');
    expect(result).toContain('1 restored · 7 unchanged · 0 refused');
    expect(config.get('MAX_BATCH_SIZE')).toBe(200);
    const [v] = await config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(v).toMatchObject({
      version: 4,
      action: 'restore',
      reason: 'Restored from snapshot before: undo the raise',
    });
    expect(v?.actor).toEqual(admin.session.user);
    const [key] = await config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'restore' });
    expect(key).toMatchObject({ status: 'success', channelId: 'panel', version: 4 });
    const [whole] = await config.auditLog({ key: 'snapshot:before', action: 'snapshot-restore' });
    expect(whole).toMatchObject({ status: 'success', channelId: 'panel', newValue: { restored: 1 } });
  });

  it('refuses a Confirm whose preview is stale and changes nothing', async () => {
    const { api, admin } = await withSnapshot('panel_snap_stale');
    const config = api.runtime.config;
    await config.set('MAX_BATCH_SIZE', '300', bob);
    const fields = formFields(await previewRestore(admin), '/panel/snapshots/before/restore/confirm');
    await config.set('MAX_BATCH_SIZE', '400', bob);
    const res = await admin.fetch('/panel/snapshots/before/restore/confirm', { form: fields });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain(
      'The configuration changed since the preview, so nothing was written.',
    );
    expect(config.get('MAX_BATCH_SIZE')).toBe(400);
  });

  it('makes a restore that needs approvals one change request, changing nothing yet', async () => {
    // Values written by a process without approvals; the panel's process requires them.
    const plain = await startTestApi('panel_snap_approval');
    const api = await startTestApi('panel_snap_approval_b', {
      dbName: plain.env.MONGODB_DB_NAME,
      vars: { APPROVALS_REQUIRED: 'medium:1' },
    });
    await plain.runtime.config.set('MAX_BATCH_SIZE', '200', bob);
    const admin = await loginPanel(api);
    expect((await admin.fetch('/panel/snapshots', { form: { name: 'before' } })).status).toBe(303);
    await plain.runtime.config.set('MAX_BATCH_SIZE', '300', bob);
    const html = await previewRestore(admin);
    expect(html).toContain('1 value changes');
    expect(html).toContain('Needs 1 approval (medium impact)');
    const fields = formFields(html, '/panel/snapshots/before/restore/confirm');
    const done = await admin.fetch('/panel/snapshots/before/restore/confirm', { form: fields });
    const result = await done.text();
    expect(done.status).toBe(200);
    expect(result).toMatch(/1 need approval: <a href="\/panel\/requests\/(CR-)?[A-Z0-9]{5}">change request/);
    const [v] = await plain.runtime.config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(v).toMatchObject({ version: 3, action: 'set' });
  });

  it('shows a read-only session snapshots without write controls, and refuses its writes (403)', async () => {
    const { api } = await withSnapshot('panel_snap_member');
    const member = await loginPanel(api, panelIdentity('member'));
    const list = await member.page('/panel/snapshots');
    expect(list).toContain('before');
    expect(list).not.toContain('Create snapshot');
    const page = await member.page('/panel/snapshots/before');
    expect(page).toContain('MAX_BATCH_SIZE');
    expect(page).not.toContain('/restore');
    const made = await member.fetch('/panel/snapshots', { form: { name: 'mine' } });
    expect(made.status).toBe(403);
    const restore = await member.fetch('/panel/snapshots/before/restore', { form: {} });
    expect(restore.status).toBe(403);
    expect((await api.runtime.config.auditLog({ action: 'snapshot-create', status: 'success' })).length).toBe(
      1,
    );
    const [refused] = await api.runtime.config.auditLog({ action: 'snapshot-create', status: 'denied' });
    expect(refused).toMatchObject({ channelId: 'panel', actor: member.session.user });
    const [denied] = await api.runtime.config.auditLog({ action: 'snapshot-restore', status: 'denied' });
    expect(denied).toMatchObject({ channelId: 'panel', actor: member.session.user });
    // A server's own admin sees none of it: snapshots cover every server.
    const own = await loginPanel(api, panelIdentity('selfservice'));
    expect((await own.fetch('/panel/snapshots')).status).toBe(403);
  });
});
