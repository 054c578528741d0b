import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import { loginPanel } from '../helpers/panel.js';
import { panelAudit, preview, previewAndApply, stored } from './settings-steps.js';

describe('settings page: temporary and scheduled changes', () => {
  it('sets a temporary value (for 2h): applied now, its end listed under the value with Cancel', async () => {
    const api = await startTestApi('panel_set_for');
    const admin = await loginPanel(api);
    const edit = { value: 'debug', scope: 'env:staging', for: '2h' };
    const p = await preview(admin, 'LOG_LEVEL', edit);
    expect(await p.text()).toContain('Temporary: for 2h, then the value it replaced comes back.');

    const res = await previewAndApply(admin, 'LOG_LEVEL', edit);
    const row = await res.text();
    expect(res.status).toBe(200);
    expect(row).toContain('Saved: LOG_LEVEL at env:staging is now <code>debug</code>');
    expect(row).toMatch(/Temporary: until <time datetime="[^"]+"[^>]*>[^<]+<\/time>, then <code>/);
    expect(api.runtime.config.describe('LOG_LEVEL', { scope: 'env:staging' }).display).toBe('debug');
    const [expiry] = await api.runtime.config.timed.pending('LOG_LEVEL');
    expect(expiry).toMatchObject({ kind: 'expire', scope: 'env:staging', unset: true });
    const page = await admin.page('/panel');
    expect(page).toMatch(/Temporary at env:staging until <time[^>]*>[^<]+<\/time>, then inherits again/);
    expect(page).toContain(`/panel/settings/LOG_LEVEL/pending/${expiry?._id}/cancel`);
  });

  it('schedules a change (at "in 3 hours"): nothing changes now, listed as pending, audited as schedule on panel', async () => {
    const api = await startTestApi('panel_set_at');
    const admin = await loginPanel(api);
    const edit = { value: '45', scope: 'env:staging', at: 'in 3 hours', reason: 'later' };
    const p = await preview(admin, 'IMMEDIATE_EXPORT_BUFFER', edit);
    expect(await p.text()).toMatch(/Scheduled: applies at <time[^>]*>[^<]+<\/time> \(UTC\)/);

    const res = await previewAndApply(admin, 'IMMEDIATE_EXPORT_BUFFER', edit);
    const row = await res.text();
    expect(res.status).toBe(200);
    const [doc] = await api.runtime.config.timed.pending('IMMEDIATE_EXPORT_BUFFER');
    expect(doc).toMatchObject({ kind: 'apply', scope: 'env:staging', value: 45 });
    expect(row).toContain(`Scheduled (id ${doc?._id}): IMMEDIATE_EXPORT_BUFFER at env:staging becomes`);
    const inThree = Date.now() + 3 * 3_600_000;
    expect(Math.abs((doc?.runAt.getTime() ?? 0) - inThree)).toBeLessThan(120_000);
    expect(api.runtime.config.describe('IMMEDIATE_EXPORT_BUFFER', { scope: 'env:staging' }).version).toBe(0);
    expect(row).toMatch(/Becomes <code>45<\/code> at env:staging at <time/);
    const [audit] = await panelAudit(api, 'IMMEDIATE_EXPORT_BUFFER');
    expect(audit).toMatchObject({ action: 'schedule', status: 'success', channelId: 'panel' });
  });

  it('refuses an unreadable `for` next to the field, audited, nothing stored', async () => {
    const api = await startTestApi('panel_set_badfor');
    const admin = await loginPanel(api);
    const before = await stored(api);
    const res = await preview(admin, 'LOG_LEVEL', { value: 'debug', for: 'soon' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role="alert">for: &quot;soon&quot; is not a duration');
    expect(await stored(api)).toBe(before);
    const [audit] = await panelAudit(api, 'LOG_LEVEL');
    expect(audit).toMatchObject({ status: 'failed', channelId: 'panel' });
  });

  it('cancels a pending change with its Cancel button: gone from the row, audited as cancel on panel', async () => {
    const api = await startTestApi('panel_cancel');
    const admin = await loginPanel(api);
    const config = api.runtime.config;
    const planned = await config.timed.schedule(
      'IMMEDIATE_EXPORT_BUFFER',
      '45',
      new Date(Date.now() + 3_600_000),
      { id: '1', tag: 'someone' },
      undefined,
      {},
      { scope: 'env:staging' },
    );
    const before = await admin.page('/panel/settings/IMMEDIATE_EXPORT_BUFFER/row');
    const action = `/panel/settings/IMMEDIATE_EXPORT_BUFFER/pending/${planned.id}/cancel`;
    expect(before).toContain(action);

    const res = await admin.fetch(action, { form: {}, headers: { 'hx-request': 'true' } });
    const row = await res.text();
    expect(res.status).toBe(200);
    expect(row).toMatch(/^<tr id="key-IMMEDIATE_EXPORT_BUFFER"/);
    expect(row).not.toContain(planned.id);
    expect(await config.timed.pending('IMMEDIATE_EXPORT_BUFFER')).toEqual([]);
    const [audit] = await panelAudit(api, 'IMMEDIATE_EXPORT_BUFFER');
    expect(audit).toMatchObject({
      action: 'cancel',
      status: 'success',
      actor: { id: admin.session.user.id },
    });

    // Cancelled already: a second press says so and changes nothing.
    const again = await admin.fetch(action, { form: {}, headers: { 'hx-request': 'true' } });
    expect(again.status).toBe(404);
    expect(await again.text()).toContain('no longer pending');
  });
});
