import { describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';

async function created(api: TestApi, name: string, extra: Record<string, unknown> = {}) {
  await api.runtime.flags.create(
    { name, description: `About ${name}`, type: 'release', owner: 'team', ...extra },
    actor(),
  );
}

describe('panel flag lifecycle', () => {
  it('previews a rollback, then restores the version as a new one, audited with channel panel', async () => {
    const api = await startTestApi('panel_flags_rollback');
    await created(api, 'checkout', { rollout: 10 });
    await api.runtime.flags.update('checkout', (f) => ({ ...f, rollout: 60 }), actor());
    const admin = await loginPanel(api);
    expect(await admin.page('/panel/flags/checkout')).toContain('href="/panel/flags/checkout/rollback?to=1"');
    const preview = await admin.page('/panel/flags/checkout/rollback?to=1');
    expect(preview).toContain('<li>rollout: 60% → 10%</li>');
    expect(api.runtime.flags.get('checkout')?.version).toBe(2);
    const done = await admin.fetch('/panel/flags/checkout/rollback', {
      form: { to: '1', version: '2', reason: 'too fast' },
    });
    expect(done.status).toBe(200);
    expect(api.runtime.flags.get('checkout')).toMatchObject({ version: 3, flag: { rollout: 10 } });
    const audit = await api.runtime.config.auditLog({ key: 'flag:checkout', channelId: 'panel' });
    expect(audit.find((r) => r.action === 'rollback')).toMatchObject({
      status: 'success',
      reason: 'too fast',
    });
  });

  it('asks before archiving a flag on in production, then archives it', async () => {
    const api = await startTestApi('panel_flags_archive');
    await created(api, 'checkout', { enabled: true, environments: ['production'] });
    const admin = await loginPanel(api);
    const ask = await admin.fetch('/panel/flags/checkout/archive', { form: { version: '1' } });
    expect(await ask.text()).toContain('name="confirm" value="1"');
    expect(api.runtime.flags.get('checkout')?.flag.archived).toBe(false);
    await admin.fetch('/panel/flags/checkout/archive', { form: { version: '1', confirm: '1' } });
    expect(api.runtime.flags.get('checkout')?.flag).toMatchObject({ archived: true, enabled: false });
    expect(await admin.page('/panel/flags')).not.toContain('id="flag-checkout"');
    // Its page still shows it, offering only the way back.
    const page = await admin.page('/panel/flags/checkout');
    expect(page).toContain('Archived: off everywhere');
    expect(page).not.toContain('>Save rollout<');
    expect(page).toContain('href="/panel/flags/checkout/rollback?to=1"');
  });

  it('refuses a form read at an older version instead of overwriting the change made since', async () => {
    const api = await startTestApi('panel_flags_stale_form');
    await created(api, 'checkout');
    await api.runtime.flags.update('checkout', (f) => ({ ...f, rollout: 40 }), actor());
    const admin = await loginPanel(api);
    const res = await admin.fetch('/panel/flags/checkout/edit/rollout', {
      form: { rollout: '5', stickiness: 'userId', version: '1' },
    });
    expect(res.status).toBe(409);
    expect(await res.text()).toMatch(/role="alert">[^<]*changed since/);
    expect(api.runtime.flags.get('checkout')).toMatchObject({ version: 2, flag: { rollout: 40 } });
  });

  it('turns a change of a flag whose impact needs approval into a change request, storing nothing', async () => {
    const api = await startTestApi('panel_flags_approval', { vars: { APPROVALS_REQUIRED: 'medium:1' } });
    await created(api, 'payments');
    const admin = await loginPanel(api);
    // Raising the impact to one that needs an approval needs that approval itself.
    const res = await admin.fetch('/panel/flags/payments/edit/details', {
      form: { description: 'Payments', owner: 'team', type: 'ops', impact: 'medium', version: '1' },
    });
    expect(res.status).toBe(202);
    const html = await res.text();
    const id = /href="\/panel\/requests\/([^"]+)"/.exec(html)?.[1];
    expect(id).toBeDefined();
    expect(api.runtime.flags.get('payments')).toMatchObject({
      version: 1,
      flag: { impact: 'low', type: 'release' },
    });
    const request = await api.runtime.config.requests.get(id ?? '');
    expect(request).toMatchObject({
      status: 'pending',
      requester: panelIdentity().user,
      ctx: { channelId: 'panel' },
    });
  });

  it('refuses a self-service session (flags are global), audited as denied on panel', async () => {
    const api = await startTestApi('panel_flags_selfservice');
    await created(api, 'checkout');
    const own = await loginPanel(api, panelIdentity('selfservice'));
    const page = await own.page('/panel/flags/checkout');
    expect(page).not.toContain('>Save rollout<');
    const res = await own.fetch('/panel/flags/checkout/edit/rollout', {
      form: { rollout: '5', stickiness: 'userId', version: '1' },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Flags are global');
    expect(api.runtime.flags.get('checkout')?.version).toBe(1);
    const audit = await api.runtime.config.auditLog({ key: 'flag:checkout', channelId: 'panel' });
    expect(audit).toEqual([
      expect.objectContaining({ status: 'denied', actor: panelIdentity('selfservice').user }),
    ]);
  });

  it('shows the stored evaluations per hour and per day, and what this process counted', async () => {
    const api = await startTestApi('panel_flags_usage');
    await created(api, 'checkout', { enabled: true, environments: ['production'] });
    const flags = api.runtime.flags;
    const now = Date.now();
    await flags.usage.add({ checkout: { rollout_in: 7, excluded: 2 } }, new Date(now - 2 * 3_600_000));
    await flags.usage.add({ checkout: { rollout_in: 5 } }, new Date(now - 3 * 86_400_000));
    await flags.usage.add({ other: { rollout_in: 100 } }, new Date(now - 3_600_000));
    for (let i = 0; i < 3; i++) flags.set.isEnabled('checkout', { userId: `30000000000000000${i}` });
    const admin = await loginPanel(api);
    const day = await admin.page('/panel/flags/checkout');
    expect(day).toContain('<span class="ok">on 7</span> · <span class="fl-muted">off 2</span>');
    expect(day).toContain('<td>rollout_in 7 · excluded 2</td>');
    expect(day).toContain('This process counted on 3, off 0');
    const week = await admin.page('/panel/flags/checkout?usage=7d');
    expect(week).toContain('<span class="ok">on 12</span> · <span class="fl-muted">off 2</span>');
    expect(week).toContain(`<td>${new Date(now - 3 * 86_400_000).toISOString().slice(0, 10)}</td>`);
  });

  it('edits targeting, variants with payloads, schedule and the automatic kill from their forms', async () => {
    const api = await startTestApi('panel_flags_sections');
    await created(api, 'checkout');
    const admin = await loginPanel(api);
    const post = async (section: string, fields: [string, string][]) => {
      const version = String(api.runtime.flags.get('checkout')?.version);
      const body = new URLSearchParams([...fields, ['version', version], ['_csrf', admin.csrf]]);
      const res = await admin.fetch(`/panel/flags/checkout/edit/${section}`, {
        method: 'POST',
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status, await res.text()).toBe(200);
    };
    await post('targeting', [
      ['includeUsers', '300000000000000001\n300000000000000002'],
      ['excludeGuilds', '900000000000000009'],
    ]);
    await post('variants', [
      ['variant', 'blue'],
      ['weight', '600'],
      ['payloadType', 'json'],
      ['payload', '{"steps":2}'],
      ['variant', 'green'],
      ['weight', '400'],
      ['payloadType', ''],
      ['payload', ''],
    ]);
    await post('schedule', [
      ['start', '2026-01-01T00:00:00Z'],
      ['end', ''],
    ]);
    await post('threshold', [
      ['errors', '10'],
      ['window', '5m'],
    ]);
    expect(api.runtime.flags.get('checkout')?.flag).toMatchObject({
      include: { users: ['300000000000000001', '300000000000000002'], roles: [], guilds: [] },
      exclude: { guilds: ['900000000000000009'] },
      variants: [
        { name: 'blue', weight: 600, payload: { type: 'json', value: '{"steps":2}' } },
        { name: 'green', weight: 400 },
      ],
      start: '2026-01-01T00:00:00Z',
      errorThreshold: { errors: 10, windowMs: 300_000 },
    });
  });
});
