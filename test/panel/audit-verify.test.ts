import { describe, expect, it } from 'vitest';
import { newSigningKeyText, parseSigningKey } from '../../src/audit/signing.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { loginPanel, panelFetch, panelIdentity } from '../helpers/panel.js';

// "Verify the log" on the audit page: the hash chain's check, as /config audit verify makes it,
// for any session with read access.

const XSS = '<img src=x onerror=alert(1)>';

/** An API whose chain has begun and holds a few changes; signed when `keyText` is given. */
async function chained(label: string, keyText?: string): Promise<TestApi> {
  const api = await startTestApi(label, keyText ? { vars: { AUDIT_SIGNING_KEY: keyText } } : {});
  const svc = api.runtime.config;
  await svc.trail.begin();
  for (let i = 0; i < 3; i++) await svc.set('MAX_BATCH_SIZE', String(700 + i), actor());
  return api;
}

/** The facts of a report (`Rows checked` → its text), tags removed. */
function facts(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<dt>([^<]+)<\/dt><dd>([\s\S]*?)<\/dd>/g)].map((m) => [
      m[1] as string,
      (m[2] as string).replace(/<[^>]+>/g, ''),
    ]),
  );
}

describe('panel: verify the audit log', () => {
  it('refuses without a session (401), a session confined to one server (403, no form), a bad range (400)', async () => {
    const api = await startTestApi('panel_verify_refusals');
    const page = await panelFetch(api.url, {}, '/panel/audit/verify');
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('You are not logged in, or your session ended.');
    const fragment = await panelFetch(api.url, {}, '/panel/audit/verify', {
      headers: { 'hx-request': 'true' },
    });
    expect(fragment.status).toBe(401);
    expect(await fragment.text()).toMatch(/^<p class="error" role="alert">You are not logged in/);

    const own = await loginPanel(api, panelIdentity('selfservice'));
    const refused = await own.fetch('/panel/audit/verify');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain(
      'The check covers the audit rows of every server; your access covers guild:900000000000000002 only.',
    );
    expect(await own.page('/panel/audit')).not.toContain('Verify the log');

    // A backwards range and a bad number, in plain words (page or fragment), audited as failed.
    const admin = await loginPanel(api);
    const backwards = await admin.fetch('/panel/audit/verify?from=5&to=2');
    expect(backwards.status).toBe(400);
    const said = await backwards.text();
    expect(said).toContain('from (5) is after to (2): nothing was checked.');
    expect(said).not.toMatch(/\sat .+:\d+:\d+/);
    const bad = await admin.fetch('/panel/audit/verify?from=abc', { headers: { 'hx-request': 'true' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(
      /^<p class="error" role="alert">From row is a row number, 1 or more; leave it empty for all rows\./,
    );
    const failed = await api.runtime.config.auditLog({ action: 'audit-verify', status: 'failed' });
    expect(failed.map((r) => r.error)).toEqual([
      'From row is a row number, 1 or more; leave it empty for all rows.',
      'from (5) is after to (2): nothing was checked.',
    ]);
  });

  it('shows a member an intact log: rows and checkpoints checked, when it began, the public key; audited', async () => {
    const keyText = newSigningKeyText();
    const key = parseSigningKey(keyText);
    const api = await chained('panel_verify_intact', keyText);
    const svc = api.runtime.config;
    await svc.trail.checkpoint();
    const member = await loginPanel(api, panelIdentity('member'));

    // The audit page's action: a plain GET form (no script needed), which htmx fills in place.
    const audit = await member.page('/panel/audit');
    expect(audit).toContain(
      '<form class="filters" method="get" action="/panel/audit/verify" hx-get="/panel/audit/verify" hx-target="#verify-result" hx-swap="innerHTML">',
    );
    expect(audit).toContain('<button type="submit">Verify the log</button>');
    expect(audit).toContain('<div id="verify-result" aria-live="polite"></div>');

    const { headSeq, genesis } = await svc.trail.state();
    const html = await member.page('/panel/audit/verify');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<h1>Audit log check</h1>');
    expect(html).toContain('Audit log intact <span class="hd-badge hd-success">intact</span>');
    expect(facts(html)).toEqual({
      'Rows checked': `${headSeq} (the whole chain)`,
      'Signed checkpoints checked': '2',
      'Chain began': `${genesis!.at.toISOString().slice(0, 16).replace('T', ' ')} UTC, with no earlier rows`,
      'Signing key': `${key.id}, public key ${key.publicText}`,
    });
    expect(html).toContain(`<time datetime="${genesis!.at.toISOString()}"`);
    expect(html).not.toContain('What broke');

    // A range, typed in the form (the first check's own audit row is the chain's newest now).
    expect(facts(await member.page('/panel/audit/verify?from=2&to=4'))['Rows checked']).toBe(
      `3 (rows 2–4 of ${headSeq + 1})`,
    );
    expect(facts(await member.page('/panel/audit/verify?from=999'))['Rows checked']).toBe(
      `0 (from row 999: past the chain's end at row ${headSeq + 2})`,
    );
    const audited = await svc.auditLog({ action: 'audit-verify', channelId: 'panel' });
    expect(audited).toHaveLength(3);
    expect(audited[0]).toMatchObject({ status: 'success', newValue: 'intact', actor: { tag: 'member' } });
  });

  it('names each break with its row id, as text; htmx gets the report alone; no key set says so', async () => {
    const api = await chained('panel_verify_broken');
    const rows = api.runtime.config.conn.collection('config_audit_logs');
    const victim = await rows.findOne({ seq: 2 });
    await rows.updateOne({ _id: victim!._id }, { $set: { reason: 'edited through the driver' } });
    // A row written around the chain, its id chosen to hold markup.
    await rows.insertOne({
      _id: XSS as never,
      key: 'MAX_BATCH_SIZE',
      action: 'set',
      status: 'success',
      actor: actor(),
      createdAt: new Date(),
    });
    const admin = await loginPanel(api);
    const res = await admin.fetch('/panel/audit/verify', { headers: { 'hx-request': 'true' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    // A fragment for the page's #verify-result, not a page.
    expect(html).toMatch(/^<div class="hd-verify"><h3>Audit log altered /);
    expect(html).not.toContain('<html');
    expect(html).toContain('<span class="hd-badge hd-failed">2 found</span>');
    expect(html).toContain(
      `<li class="hd-break">row 2 (id ${String(victim!._id)}): content edited; it no longer matches the hash the chain recorded for it</li>`,
    );
    expect(html).toContain('<li class="hd-break">row id &lt;img src=x onerror=alert(1)>: inserted;');
    expect(html).not.toContain('<img');
    expect(facts(html)['Signing key']).toBe(
      'none: AUDIT_SIGNING_KEY is not set, so no checkpoint is signed here',
    );
    expect(html).toContain('No signed checkpoint was checked: a rewrite of the whole chain would not show.');
  });
});
