import { h } from 'preact';
import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildRegistry } from '../../src/config/registry.js';
import { jsonObject } from '../../src/config/kinds.js';
import { ValueDiff } from '../../src/panel/diff.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity, type PanelClient } from '../helpers/panel.js';

const alice = { id: '200000000000000001', tag: 'alice' };
const bob = { id: '200000000000000002', tag: 'bob' };
const XSS = '<img src=x onerror=alert(1)>';

/** A panel over a database where MAX_BATCH_SIZE has three versions: its default (v1), 200 by alice, 250 by bob. */
async function twoVersions(label: string): Promise<{ api: TestApi; admin: PanelClient }> {
  const api = await startTestApi(label);
  await api.runtime.config.set('MAX_BATCH_SIZE', '200', alice, 'first raise');
  await api.runtime.config.set('MAX_BATCH_SIZE', '250', bob, XSS);
  return { api, admin: await loginPanel(api) };
}

/** The form fields of the confirmation page (hidden inputs), by name. */
function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  const form = /<form method="post" action="[^"]*\/confirm"[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    out[m[1] as string] = m[2] as string;
  return out;
}

describe('panel history of a key', () => {
  it('lists each version newest first with who, when and why, escaping the reason', async () => {
    const { admin } = await twoVersions('panel_history_list');
    const html = await admin.page('/panel/history/MAX_BATCH_SIZE');
    expect(html).toContain('History of MAX_BATCH_SIZE');
    const v3 = html.indexOf('<th scope="row">v3</th>');
    const v2 = html.indexOf('<th scope="row">v2</th>');
    const v1 = html.indexOf('<th scope="row">v1</th>');
    expect(v3).toBeGreaterThan(0);
    expect(v2).toBeGreaterThan(v3);
    expect(v1).toBeGreaterThan(v2);
    expect(html.slice(v2, v1)).toContain('alice');
    expect(html.slice(v2, v1)).toContain('first raise');
    expect(html.slice(v3, v2)).toContain('bob');
    expect(html.slice(v3, v2)).toMatch(/<time datetime="\d{4}-\d\d-\d\dT/);
    // Shown as text: the markup's opening bracket is escaped, so no element is made.
    expect(html).toContain('<td class="hd-why" data-label="Why">&lt;img src=x onerror=alert(1)>');
    expect(html).not.toContain('<img');
    // An admin gets the way back; the newest version is where it already is.
    expect(html).toContain('Roll back to v2');
    expect(html).not.toContain('Roll back to v3');
  });

  it('shows a read-only session the versions without any write control', async () => {
    const { api } = await twoVersions('panel_history_read');
    const member = await loginPanel(api, panelIdentity('member'));
    const html = await member.page('/panel/history/MAX_BATCH_SIZE');
    expect(html).toContain('first raise');
    expect(html).not.toContain('Roll back to');
    expect(html).not.toContain('/rollback');
    expect(html).not.toContain('Reset to the default');
  });

  it('diffs any two versions, naming what changed (a page, or a fragment for htmx)', async () => {
    const { admin } = await twoVersions('panel_history_diff');
    const html = await admin.page('/panel/history/MAX_BATCH_SIZE/diff?from=3&to=2');
    expect(html).toContain('v2 → v3');
    expect(html).toContain('<del>200</del> → <ins>250</ins>');
    const frag = await admin.fetch('/panel/history/MAX_BATCH_SIZE/diff?from=2&to=3', {
      headers: { 'hx-request': 'true' },
    });
    const text = await frag.text();
    expect(frag.status).toBe(200);
    expect(text).not.toContain('<html');
    expect(text).toContain('<del>200</del> → <ins>250</ins>');
    const missing = await admin.fetch('/panel/history/MAX_BATCH_SIZE/diff?from=1&to=9');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('has no version 9');
  });

  it('diffs JSON objects field by field and never shows a sensitive value', () => {
    const reg = buildRegistry({
      ROUTES: {
        ...jsonObject(z.looseObject({})),
        category: 'system',
        description: 'routes',
        default: {},
        sensitive: false,
        requiresRestart: false,
      } as never,
    });
    const def = reg.get('ROUTES');
    const html = render(
      h(ValueDiff, { def, before: { a: 1, b: { c: 2 }, gone: true }, after: { a: 1, b: { c: 3 }, d: 'x' } }),
    );
    expect(html).toContain('<code>b.c</code> <del>2</del> → <ins>3</ins>');
    expect(html).toContain('<code>d</code> added: <ins>&quot;x&quot;</ins>');
    expect(html).toContain('<code>gone</code> removed (was <del>true</del>)');
    expect(html).not.toContain('<code>a</code>');
    const secret = render(
      h(ValueDiff, { def: { ...def, sensitive: true } as never, before: { k: 1 }, after: { k: 2 } }),
    );
    expect(secret).toBe('<span>changed (a sensitive value is never shown)</span>');
  });

  it('rolls back after a preview: Confirm writes a new version, audited with channel panel', async () => {
    const { api, admin } = await twoVersions('panel_history_rollback');
    const config = api.runtime.config;
    const preview = await admin.fetch('/panel/history/MAX_BATCH_SIZE/rollback', {
      form: { version: '2', scope: 'global' },
    });
    const html = await preview.text();
    expect(preview.status).toBe(200);
    expect(html).toContain('Roll back MAX_BATCH_SIZE to version 2?');
    expect(html).toContain('Now (v3): <code>250</code>');
    expect(html).toContain('Then: <code>200</code>');
    expect(html).toContain('Per environment');
    expect(html).toContain('Nothing has changed yet.');
    expect(config.get('MAX_BATCH_SIZE')).toBe(250);
    const fields = hiddenFields(html);
    expect(fields).toMatchObject({ version: '2', scope: 'global', expected: '3' });

    const done = await admin.fetch('/panel/history/MAX_BATCH_SIZE/rollback/confirm', {
      form: { ...fields, reason: 'back to the safe size' },
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/panel/history/MAX_BATCH_SIZE?written=4');
    expect(config.get('MAX_BATCH_SIZE')).toBe(200);
    const [v4] = await config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(v4).toMatchObject({
      version: 4,
      action: 'rollback',
      restoredFrom: 2,
      reason: 'back to the safe size',
    });
    expect(v4?.actor).toEqual(admin.session.user);
    const [row] = await config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'rollback' });
    expect(row).toMatchObject({
      status: 'success',
      channelId: 'panel',
      version: 4,
      actor: admin.session.user,
    });
    const after = await admin.page('/panel/history/MAX_BATCH_SIZE?written=4');
    expect(after).toContain('Version 4 written.');
    expect(after).toContain('restores v2');
  });

  it('refuses a Confirm whose preview is stale (the key moved since) and changes nothing', async () => {
    const { api, admin } = await twoVersions('panel_history_stale');
    const config = api.runtime.config;
    const preview = await admin.fetch('/panel/history/MAX_BATCH_SIZE/rollback', {
      form: { version: '2', scope: 'global' },
    });
    const fields = hiddenFields(await preview.text());
    expect(fields.expected).toBe('3');
    await config.set('MAX_BATCH_SIZE', '300', bob, 'meanwhile');

    const res = await admin.fetch('/panel/history/MAX_BATCH_SIZE/rollback/confirm', { form: fields });
    expect(res.status).toBe(409);
    const text = await res.text();
    expect(text).toContain('role="alert"');
    expect(config.get('MAX_BATCH_SIZE')).toBe(300);
    const [newest] = await config.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(newest?.version).toBe(4);
    const [row] = await config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'rollback' });
    expect(row).toMatchObject({ channelId: 'panel', actor: admin.session.user });
    expect(row?.status).not.toBe('success');
  });

  it('resets to the default after a preview, and refuses a read-only session', async () => {
    const { api, admin } = await twoVersions('panel_history_reset');
    const config = api.runtime.config;
    const member = await loginPanel(api, panelIdentity('member'));
    const denied = await member.fetch('/panel/history/MAX_BATCH_SIZE/reset', { form: { scope: 'global' } });
    expect(denied.status).toBe(403);

    const preview = await admin.fetch('/panel/history/MAX_BATCH_SIZE/reset', { form: { scope: 'global' } });
    const html = await preview.text();
    expect(html).toContain('Reset MAX_BATCH_SIZE to its default?');
    const done = await admin.fetch('/panel/history/MAX_BATCH_SIZE/reset/confirm', {
      form: { ...hiddenFields(html), reason: 'start over' },
    });
    expect(done.status).toBe(303);
    expect(config.get('MAX_BATCH_SIZE')).toBe(config.definition('MAX_BATCH_SIZE').default);
    const [row] = await config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'reset' });
    expect(row).toMatchObject({ status: 'success', channelId: 'panel', reason: 'start over' });
  });

  it('confines a self-service admin to its own scope and refuses keys its server does not manage, audited', async () => {
    const { api } = await twoVersions('panel_history_self');
    const own = panelIdentity('selfservice');
    const guest = await loginPanel(api, own);
    const html = await guest.page('/panel/history/MAX_BATCH_SIZE');
    expect(html).toContain(`History of MAX_BATCH_SIZE at ${own.ownScope}`);
    expect((await guest.fetch('/panel/history/MAX_BATCH_SIZE?scope=global')).status).toBe(403);
    const res = await guest.fetch('/panel/history/MAX_BATCH_SIZE/reset', {
      form: { scope: own.ownScope ?? '' },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('is not one your server manages itself');
    const [row] = await api.runtime.config.auditLog({ key: 'MAX_BATCH_SIZE', status: 'denied' });
    expect(row).toMatchObject({ action: 'reset', channelId: 'panel', actor: own.user, scope: own.ownScope });
  });

  it("counts previews and confirms with the bot's attempt limit; a refusal is audited as denied", async () => {
    const api = await startTestApi('panel_history_limit', { vars: { WRITE_ATTEMPTS_PER_MIN: '2' } });
    await api.runtime.config.set('MAX_BATCH_SIZE', '200', alice, 'first raise');
    const admin = await loginPanel(api);
    const preview = () =>
      admin.fetch('/panel/history/MAX_BATCH_SIZE/rollback', { form: { version: '1', scope: 'global' } });
    expect((await preview()).status).toBe(200);
    expect((await preview()).status).toBe(200);
    const third = await preview();
    expect(third.status).toBe(429);
    const [row] = await api.runtime.config.auditLog({ key: 'MAX_BATCH_SIZE', status: 'denied' });
    expect(row).toMatchObject({ action: 'rollback', channelId: 'panel', actor: admin.session.user });
  });
});
