import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';
import { apply, panelAudit, preview, previewAndApply, previewed, stored } from './settings-steps.js';

describe('settings page: editing a key', () => {
  it('refuses an invalid value next to the field: 400 alert, nothing stored, audited as failed on panel', async () => {
    const api = await startTestApi('panel_set_invalid');
    const admin = await loginPanel(api);
    const before = await stored(api);

    const res = await preview(admin, 'MAX_BATCH_SIZE', { value: '5000', reason: 'too big' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/^<p class="error" role="alert">/);
    expect(html).toContain('MAX_BATCH_SIZE');
    expect(html).not.toContain('<html');

    expect(await stored(api)).toBe(before);
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
    const [row] = await panelAudit(api, 'MAX_BATCH_SIZE');
    expect(row).toMatchObject({
      action: 'set',
      status: 'failed',
      channelId: 'panel',
      actor: { id: admin.session.user.id },
    });
  });

  it('previews with the impact and warnings, asks to confirm a production change, then applies it audited as panel', async () => {
    const api = await startTestApi('panel_set_valid');
    const admin = await loginPanel(api);
    const edit = { value: '5', reason: 'smaller batches' };

    const p = await preview(admin, 'MAX_BATCH_SIZE', edit);
    const html = await p.text();
    expect(p.status).toBe(200);
    expect(html).toContain('Preview: MAX_BATCH_SIZE');
    expect(html).toContain('very small batch');
    for (const part of [
      'Per environment',
      'production: <code>100</code> → <code>5</code>',
      'Restart',
      'Approvals',
      'Way back',
    ])
      expect(html).toContain(part);
    // Global reaches production: the explicit confirmation is asked for.
    expect(html).toMatch(/name="confirm" value="yes" required/);
    expect(html).toContain('formaction="/panel/settings/MAX_BATCH_SIZE/apply"');
    expect(await panelAudit(api, 'MAX_BATCH_SIZE')).toEqual([]);

    const before = await stored(api);
    const unconfirmed = await apply(admin, 'MAX_BATCH_SIZE', edit, previewed(html));
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('role="alert"');
    expect(await stored(api)).toBe(before);

    const done = await apply(admin, 'MAX_BATCH_SIZE', edit, previewed(html), { confirm: true });
    const row = await done.text();
    expect(done.status).toBe(200);
    expect(row).toMatch(/^<tr id="key-MAX_BATCH_SIZE"/);
    expect(row).toContain('data-live-key="MAX_BATCH_SIZE"');
    expect(row).toContain('Saved: MAX_BATCH_SIZE is now <code>5</code> (version 2).');
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(5);
    const audit = await panelAudit(api, 'MAX_BATCH_SIZE');
    expect(audit.find((r) => r.status === 'success')).toMatchObject({
      action: 'set',
      channelId: 'panel',
      guildId: admin.session.guildId,
      actor: { id: admin.session.user.id, tag: admin.session.user.tag },
      reason: 'smaller batches',
      newValue: 5,
      version: 2,
    });
  });

  it('applies only what was previewed, at the version it showed', async () => {
    const api = await startTestApi('panel_set_guarded');
    const admin = await loginPanel(api);
    const edit = { value: 'debug', scope: 'env:staging' };
    const shown = previewed(await (await preview(admin, 'LOG_LEVEL', edit)).text());

    // The form edited after its preview: refused, nothing stored.
    const before = await stored(api);
    const edited = await apply(admin, 'LOG_LEVEL', { ...edit, value: 'error' }, shown);
    expect(edited.status).toBe(409);
    expect(await edited.text()).toContain('preview it again');
    expect(await stored(api)).toBe(before);

    // The key moved elsewhere since the preview: the service refuses the write.
    await api.runtime.config.set(
      'LOG_LEVEL',
      'warn',
      { id: '1', tag: 'other' },
      undefined,
      {},
      { scope: 'env:staging' },
    );
    const stale = await apply(admin, 'LOG_LEVEL', edit, shown);
    expect(stale.status).toBe(409);
    expect(api.runtime.config.describe('LOG_LEVEL', { scope: 'env:staging' }).display).toBe('warn');
  });

  it('sets at the scope chosen (env:staging) and leaves the global value', async () => {
    const api = await startTestApi('panel_set_scope');
    const admin = await loginPanel(api);
    const page = await admin.page('/panel');
    expect(page).toContain('<option value="env:staging"');
    expect(page).toContain(`<option value="guild:${admin.session.guildId}"`);

    const res = await previewAndApply(admin, 'LOG_LEVEL', { value: 'debug', scope: 'env:staging' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Saved: LOG_LEVEL at env:staging is now <code>debug</code>');
    const config = api.runtime.config;
    expect(config.describe('LOG_LEVEL', { scope: 'env:staging' }).display).toBe('debug');
    expect(config.describe('LOG_LEVEL', { scope: 'global' }).display).toBe('info');
    const [row] = await panelAudit(api, 'LOG_LEVEL');
    expect(row).toMatchObject({ status: 'success', scope: 'env:staging', channelId: 'panel' });
  });

  it('a change that needs approval becomes a change request, nothing applied', async () => {
    const api = await startTestApi('panel_set_approval', { vars: { APPROVALS_REQUIRED: 'low:1' } });
    const admin = await loginPanel(api);
    const p = await preview(admin, 'LOG_LEVEL', { value: 'debug', scope: 'env:staging' });
    const html = await p.text();
    expect(html).toContain('needs 1 approval (becomes a change request)');
    const res = await apply(admin, 'LOG_LEVEL', { value: 'debug', scope: 'env:staging' }, previewed(html));
    expect(res.status).toBe(202);
    const [request] = await api.runtime.config.requests.list();
    expect(request).toBeDefined();
    expect(await res.text()).toContain(`Approval needed: change request ${request?.id}`);
    expect(api.runtime.config.describe('LOG_LEVEL', { scope: 'env:staging' }).display).toBe('info');
  });

  it('shows a read-only session the values without edit controls, and refuses its apply with 403', async () => {
    const api = await startTestApi('panel_set_readonly');
    const member = await loginPanel(api, panelIdentity('member'));
    const page = await member.page('/panel');
    expect(page).toContain('MAX_BATCH_SIZE');
    expect(page).not.toContain('/preview');
    expect(page).not.toContain('Value of');
    const row = await (await member.fetch('/panel/settings/MAX_BATCH_SIZE/row')).text();
    expect(row).toContain('data-live-src="/panel/settings/MAX_BATCH_SIZE/row"');
    expect(row).not.toContain('<form');

    const before = await stored(api);
    const res = await apply(member, 'MAX_BATCH_SIZE', { value: '5' }, { expectedVersion: '1', digest: 'x' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('role="alert"');
    expect(await stored(api)).toBe(before);
  });

  it('confines a self-service session to its own server: no edit form for other keys, a write refused and audited', async () => {
    const api = await startTestApi('panel_set_selfservice');
    const own = await loginPanel(api, panelIdentity('selfservice'));
    // No key of the registry is self-service: nothing to edit.
    expect(await own.page('/panel')).not.toContain('/preview');
    const before = await stored(api);
    const res = await preview(own, 'MAX_BATCH_SIZE', { value: '5', scope: 'global' });
    expect(res.status).toBe(403);
    expect(await stored(api)).toBe(before);
    const [row] = await panelAudit(api, 'MAX_BATCH_SIZE');
    expect(row).toMatchObject({ status: 'denied', channelId: 'panel', actor: { id: own.session.user.id } });
  });

  it('refuses past the write limit with its message, audited as denied', async () => {
    const api = await startTestApi('panel_set_limit', { vars: { WRITE_ATTEMPTS_PER_MIN: '2' } });
    const admin = await loginPanel(api);
    for (let n = 0; n < 2; n++)
      expect((await preview(admin, 'LOG_LEVEL', { value: 'debug', scope: 'env:staging' })).status).toBe(200);
    const res = await preview(admin, 'LOG_LEVEL', { value: 'debug', scope: 'env:staging' });
    expect(res.status).toBe(429);
    expect(await res.text()).toMatch(/role="alert">Too many attempts: 2 in the last minute/);
    const [row] = await panelAudit(api, 'LOG_LEVEL');
    expect(row).toMatchObject({ status: 'denied', channelId: 'panel' });
  });
});
