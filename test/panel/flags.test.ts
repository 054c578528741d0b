import { describe, expect, it } from 'vitest';
import type { FlagContext } from '@config-bot/client/flags';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { loginPanel, panelIdentity, type PanelClient } from '../helpers/panel.js';

const XSS = '<img src=x onerror=alert(1)>';
const EXCLUDED = '300000000000000009';

/** Text as the panel's renderer (preact-render-to-string) escapes it. */
const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** A form with repeated fields (condition and variant rows), as a browser sends it. */
function rows(client: PanelClient, path: string, fields: [string, string][]) {
  const body = new URLSearchParams([...fields, ['_csrf', client.csrf]]);
  return client.fetch(path, {
    method: 'POST',
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

async function created(api: TestApi, name: string, extra: Record<string, unknown> = {}) {
  await api.runtime.flags.create(
    { name, description: `About ${name}`, type: 'release', owner: 'team', ...extra },
    actor(),
  );
}

describe('panel flags list', () => {
  it('shows every flag with its state per environment, stale and never-evaluated marks', async () => {
    const first = await startTestApi('panel_flags_list');
    await created(first, 'old-release', { enabled: true, environments: ['production'], rollout: 100 });
    await created(first, 'fresh-one');
    await created(first, 'used-one', { enabled: true, environments: ['staging'] });
    await first.runtime.flags.usage.add({ 'used-one': { rollout_in: 3 }, 'typo-flag': { unknown_flag: 1 } });
    // Unchanged for 40 days: read so by a process that starts now.
    const slots = first.runtime.config.conn.collection('system_configs');
    await slots.updateOne(
      { key: 'flag:old-release' },
      { $set: { updatedAt: new Date(Date.now() - 40 * 86_400_000) } },
    );
    const api = await startTestApi('panel_flags_list2', { dbName: first.env.MONGODB_DB_NAME });
    const admin = await loginPanel(api);
    const html = await admin.page('/panel/flags');
    const row = (name: string) =>
      /<tr id="flag-[^"]+">[\s\S]*?<\/tr>/g.exec(html.slice(html.indexOf(`id="flag-${name}"`) - 8))?.[0] ??
      '';
    expect(row('old-release')).toContain('stale');
    expect(row('old-release')).toContain('fully on, unchanged for 40 days');
    expect(row('fresh-one')).toContain('never evaluated');
    expect(row('fresh-one')).not.toContain('>stale<');
    expect(row('used-one')).not.toContain('never evaluated');
    // State per environment: production on for old-release, staging on for used-one.
    expect(row('old-release')).toMatch(
      /<td data-label="production"><span class="fl-state fl-on">on<\/span><\/td>\s*<td data-label="staging"><span class="fl-state fl-off">/,
    );
    expect(row('used-one')).toMatch(
      /<td data-label="production"><span class="fl-state fl-off">off<\/span><\/td>\s*<td data-label="staging"><span class="fl-state fl-on">/,
    );
    expect(html).toContain('typo-flag');
    const stale = await admin.page('/panel/flags?stale=1');
    expect(stale).toContain('id="flag-old-release"');
    expect(stale).not.toContain('id="flag-fresh-one"');
  });

  it('escapes markup in a flag description on the list and the flag page', async () => {
    const api = await startTestApi('panel_flags_xss');
    await api.runtime.flags.create({ name: 'xss-flag', description: XSS, type: 'ops', owner: XSS }, actor());
    const admin = await loginPanel(api);
    for (const path of ['/panel/flags', '/panel/flags/xss-flag']) {
      const html = await admin.page(path);
      expect(html).toContain(escaped(XSS));
      expect(html).not.toContain(XSS);
    }
  });
});

describe('panel flag edits', () => {
  it('creates a flag, edits its rollout and a condition: new versions audited with channel panel', async () => {
    const api = await startTestApi('panel_flags_edit');
    const admin = await loginPanel(api);
    const made = await admin.fetch('/panel/flags', {
      form: {
        name: 'new-checkout',
        description: 'The new checkout',
        type: 'release',
        owner: '',
        impact: 'low',
      },
    });
    expect(made.status).toBe(303);
    expect(made.headers.get('location')).toBe('/panel/flags/new-checkout');
    const rollout = await admin.fetch('/panel/flags/new-checkout/edit/rollout', {
      form: { rollout: '25', stickiness: 'userId', group: '', version: '1', reason: 'ramp up' },
    });
    expect(rollout.status).toBe(200);
    expect(await rollout.text()).toContain('Saved as version 2: rollout: 100% → 25%');
    const cond = await rows(admin, '/panel/flags/new-checkout/edit/conditions', [
      ['version', '2'],
      ['attribute', 'plan'],
      ['operator', 'in'],
      ['values', 'pro, team'],
      // A second row, with its boxes ticked: a ticked box sends its row's number.
      ['attribute', 'email'],
      ['operator', 'regex'],
      ['values', '^[a-z]{1,3}@Example'],
      ['inverted', '1'],
      ['caseInsensitive', '1'],
    ]);
    expect(cond.status).toBe(200);
    const held = api.runtime.flags.get('new-checkout');
    expect(held?.version).toBe(3);
    expect(held?.flag.rollout).toBe(25);
    expect(held?.flag.owner).toBe('admin');
    expect(held?.flag.conditions).toEqual([
      { attribute: 'plan', operator: 'in', values: ['pro', 'team'] },
      {
        attribute: 'email',
        operator: 'regex',
        values: ['^[a-z]{1,3}@Example'],
        inverted: true,
        caseInsensitive: true,
      },
    ]);
    const pins = await rows(admin, '/panel/flags/new-checkout/edit/variants', [
      ['version', '3'],
      ['variant', 'blue'],
      ['weight', '500'],
      ['payloadType', ''],
      ['payload', ''],
      ['pinned', 'plan=enterprise'],
      ['variant', 'green'],
      ['weight', '500'],
      ['payloadType', ''],
      ['payload', ''],
      ['pinned', 'nonsense'],
    ]);
    expect(pins.status).toBe(400);
    expect(await pins.text()).toContain('pinned: &quot;nonsense&quot; is not attribute=values');
    expect(api.runtime.flags.get('new-checkout')?.version).toBe(3);
    const pinnedOk = await rows(admin, '/panel/flags/new-checkout/edit/variants', [
      ['version', '3'],
      ['variant', 'blue'],
      ['weight', '500'],
      ['payloadType', ''],
      ['payload', ''],
      ['pinned', 'plan=enterprise, team; userId=42'],
      ['variant', 'green'],
      ['weight', '500'],
      ['payloadType', ''],
      ['payload', ''],
      ['pinned', ''],
    ]);
    expect(pinnedOk.status).toBe(200);
    expect(api.runtime.flags.get('new-checkout')?.flag.variants).toEqual([
      {
        name: 'blue',
        weight: 500,
        overrides: [
          { attribute: 'plan', values: ['enterprise', 'team'] },
          { attribute: 'userId', values: ['42'] },
        ],
      },
      { name: 'green', weight: 500 },
    ]);
    // The form shows them ticked again, on that row only.
    const form = await (await admin.fetch('/panel/flags/new-checkout')).text();
    expect(form.match(/name="inverted" value="\d+" checked/g)).toEqual(['name="inverted" value="1" checked']);
    const audit = await api.runtime.config.auditLog({ key: 'flag:new-checkout', channelId: 'panel' });
    const ok = audit.filter((r) => r.status === 'success');
    expect(ok.map((r) => r.action).sort()).toEqual(['create', 'set', 'set', 'set']);
    for (const r of ok) expect(r.actor).toEqual(panelIdentity().user);
    expect(ok.find((r) => r.reason === 'ramp up')).toBeDefined();
  });

  it('refuses a taken or malformed name next to the name field, keeping what was typed', async () => {
    const api = await startTestApi('panel_flags_create_refused');
    await created(api, 'checkout');
    const admin = await loginPanel(api);
    for (const [name, said] of [
      ['checkout', 'A flag named checkout already exists.'],
      ['Bad Name!', 'is not a flag name'],
    ] as const) {
      const res = await admin.fetch('/panel/flags', {
        form: { name, description: 'Typed description', type: 'ops', owner: 'me' },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const html = await res.text();
      expect(html).toMatch(new RegExp(`role="alert" id="err-name">[^<]*${said}`));
      expect(html).toContain('aria-describedby="err-name"');
      expect(html).toContain('Typed description');
    }
    expect(api.runtime.flags.list().map((s) => s.flag.name)).toEqual(['checkout']);
  });

  it('refuses an invalid rollout and condition next to the field, stores nothing, audits the attempt', async () => {
    const api = await startTestApi('panel_flags_invalid');
    await created(api, 'checkout');
    const admin = await loginPanel(api);
    const bad = await admin.fetch('/panel/flags/checkout/edit/rollout', {
      form: { rollout: '150', stickiness: 'userId', version: '1' },
    });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toMatch(/<p class="error" role="alert" id="err-rollout">must be from 0 to 100<\/p>/);
    expect(html).toContain('value="150"');
    expect(html).toMatch(/<input id="r-rollout"[^>]*aria-invalid="true" aria-describedby="err-rollout"/);
    const cond = await rows(admin, '/panel/flags/checkout/edit/conditions', [
      ['version', '1'],
      ['attribute', 'age'],
      ['operator', 'lt'],
      ['values', 'old'],
    ]);
    expect(cond.status).toBe(400);
    expect(await cond.text()).toMatch(
      /role="alert" id="err-conditions-0">`old` is not a number \(needed by lt\)/,
    );
    const held = api.runtime.flags.get('checkout');
    expect(held?.version).toBe(1);
    expect(held?.flag.rollout).toBe(100);
    expect(held?.flag.conditions).toEqual([]);
    const audit = await api.runtime.config.auditLog({ key: 'flag:checkout', channelId: 'panel' });
    expect(audit.filter((r) => r.status === 'failed')).toHaveLength(2);
  });

  it('turns a flag on, and asks before switching it off in production', async () => {
    const api = await startTestApi('panel_flags_switch');
    await created(api, 'checkout');
    const admin = await loginPanel(api);
    const on = await admin.fetch('/panel/flags/checkout/switch', { form: { to: 'on', version: '1' } });
    expect(on.status).toBe(200);
    expect(await on.text()).toContain('environment, production, was added');
    expect(api.runtime.flags.get('checkout')?.flag).toMatchObject({
      enabled: true,
      environments: ['production'],
    });
    const ask = await admin.fetch('/panel/flags/checkout/switch', { form: { to: 'off', version: '2' } });
    expect(await ask.text()).toContain('name="confirm" value="1"');
    expect(api.runtime.flags.get('checkout')?.flag.enabled).toBe(true);
    const off = await admin.fetch('/panel/flags/checkout/switch', {
      form: { to: 'off', version: '2', confirm: '1' },
    });
    expect(off.status).toBe(200);
    expect(api.runtime.flags.get('checkout')?.flag.enabled).toBe(false);
  });

  it('refuses every write of a read-only session (403) and shows it no save button', async () => {
    const api = await startTestApi('panel_flags_readonly');
    await created(api, 'checkout');
    const member = await loginPanel(api, panelIdentity('member'));
    const page = await member.page('/panel/flags/checkout');
    expect(page).not.toContain('type="submit">Save');
    for (const [path, form] of [
      ['/panel/flags/checkout/edit/rollout', { rollout: '10', stickiness: 'userId' }],
      ['/panel/flags/checkout/switch', { to: 'on' }],
      ['/panel/flags', { name: 'sneaky', description: 'x', type: 'ops', owner: 'x' }],
    ] as const) {
      const res = await member.fetch(path, { form });
      expect(res.status).toBe(403);
    }
    expect(api.runtime.flags.get('checkout')?.version).toBe(1);
    expect(api.runtime.flags.get('sneaky')).toBeUndefined();
    const denied = await api.runtime.config.auditLog({ key: 'flag:checkout', channelId: 'panel' });
    expect(denied.map((r) => [r.status, r.action])).toEqual([
      ['denied', 'set'],
      ['denied', 'set'],
    ]);
  });
});

describe('panel flag playground', () => {
  it('answers as the FlagStore evaluates, with the explanation, in and out of the rollout', async () => {
    const api = await startTestApi('panel_flags_playground');
    await created(api, 'half', {
      enabled: true,
      environments: ['production'],
      rollout: 50,
      conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }],
      exclude: { users: [EXCLUDED] },
      variants: [{ name: 'blue', weight: 1000, payload: { type: 'json', value: '{"steps":1}' } }],
    });
    const admin = await loginPanel(api);
    const ask = async (q: Record<string, string>, expected: FlagContext) => {
      const html = await admin.page(
        `/panel/flags/half?${new URLSearchParams({ try: '1', env: 'production', ...q })}`,
      );
      const e = api.runtime.flags.set.explain('half', expected);
      expect(html).toContain(`<strong>${e.enabled ? 'On' : 'Off'}</strong> for this context`);
      expect(html).toContain(`<code>${e.reason}</code>`);
      expect(html).toContain(escaped(e.message));
      return e;
    };
    const pro = { attributes: 'plan=pro' };
    const excluded = await ask(
      { user: EXCLUDED, ...pro },
      { userId: EXCLUDED, environment: 'production', attributes: { plan: 'pro' } },
    );
    expect(excluded.reason).toBe('excluded');
    const failing = await ask(
      { user: '300000000000000001', attributes: 'plan=free' },
      {
        userId: '300000000000000001',
        environment: 'production',
        attributes: { plan: 'free' },
      },
    );
    expect(failing.reason).toBe('condition_failed');
    const seen = new Set<string>();
    for (let i = 10; i < 40 && seen.size < 2; i++) {
      const user = `3000000000000000${i}`;
      const e = await ask(
        { user, ...pro },
        { userId: user, environment: 'production', attributes: { plan: 'pro' } },
      );
      seen.add(e.reason);
      if (e.reason === 'rollout_in') {
        const html = await admin.page(`/panel/flags/half?${new URLSearchParams({ try: '1', user, ...pro })}`);
        expect(html).toContain('variant <code>blue</code>');
        expect(html).toContain(escaped('{"steps":1}'));
      }
    }
    expect([...seen].sort()).toEqual(['rollout_in', 'rollout_out']);
  });

  it('answers htmx with the result alone, and names a malformed attribute line', async () => {
    const api = await startTestApi('panel_flags_fragment');
    await created(api, 'checkout', { enabled: true, environments: ['production'] });
    const admin = await loginPanel(api);
    const res = await admin.fetch('/panel/flags/checkout/evaluate?user=300000000000000001&env=production', {
      headers: { 'hx-request': 'true' },
    });
    const html = await res.text();
    expect(html.startsWith('<div class="card fl-answer fl-is-on"')).toBe(true);
    expect(html).not.toContain('<html');
    const bad = await admin.page('/panel/flags/checkout?try=1&attributes=plan');
    expect(bad).toMatch(/role="alert" id="err-attributes">plan is not key=value with a valid key/);
  });
});
