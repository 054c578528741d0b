import { describe, expect, it } from 'vitest';
import { bindModels, type ConfigAuditDoc } from '../../src/storage/config-models.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity, type PanelClient } from '../helpers/panel.js';

const alice = { id: '200000000000000001', tag: 'alice' };
const bob = { id: '200000000000000002', tag: 'bob' };
const carol = { id: '200000000000000003', tag: 'carol' };
const dave = { id: '200000000000000004', tag: 'dave' };
const CHANNEL = '300000000000000001';
const XSS = '<img src=x onerror=alert(1)>';

const T0 = Date.parse('2026-01-10T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

/** Rows of known content and times, each with its name as reason (flags' slots: no seeded rows share them). */
const ROWS: ConfigAuditDoc[] = [
  {
    key: 'flag:checkout',
    action: 'set',
    status: 'success',
    actor: alice,
    channelId: 'panel',
    oldValue: { enabled: false, rollout: 10 },
    newValue: { enabled: true, rollout: 10 },
    reason: 'r1',
    createdAt: at(0),
  },
  {
    key: 'flag:checkout',
    action: 'set',
    status: 'denied',
    actor: bob,
    channelId: 'api',
    error: 'a read token cannot change flags',
    reason: 'r2',
    createdAt: at(1),
  },
  {
    key: 'flag:search',
    scope: 'env:staging',
    action: 'rollback',
    status: 'failed',
    actor: alice,
    channelId: CHANNEL,
    error: 'changed since the preview',
    reason: 'r3',
    createdAt: at(2),
  },
  {
    key: 'flag:search',
    action: 'set',
    status: 'denied',
    actor: carol,
    channelId: 'panel',
    error: 'not an admin',
    reason: 'r4',
    createdAt: at(3),
  },
  {
    key: 'flag:checkout',
    action: 'view',
    status: 'success',
    actor: carol,
    channelId: CHANNEL,
    reason: 'r5',
    createdAt: at(4),
  },
  {
    key: 'flag:xss',
    action: 'set',
    status: 'success',
    actor: dave,
    channelId: 'api',
    reason: XSS,
    createdAt: at(10),
  },
];

async function seeded(label: string): Promise<{ api: TestApi; admin: PanelClient }> {
  const api = await startTestApi(label);
  await bindModels(api.runtime.config.conn).ConfigAudit.insertMany(ROWS);
  return { api, admin: await loginPanel(api) };
}

/** The rows of an audit page: status and reason of each, in order. */
function rowsOf(html: string): { status: string; why: string }[] {
  return [...html.matchAll(/<tr class="hd-status-(\w+)">([\s\S]*?)<\/tr>/g)].map((m) => ({
    status: m[1] as string,
    why: /<td class="hd-why"[^>]*>([^<]*)<\/td>/.exec(m[2] as string)?.[1] ?? '',
  }));
}

const reasons = (html: string) => rowsOf(html).map((r) => r.why);

/** The Older link of a page (HTML-decoded), if any. */
const olderOf = (html: string) =>
  /<a href="([^"]+)" rel="next">Older<\/a>/.exec(html)?.[1]?.replaceAll('&amp;', '&');

describe('panel audit log', () => {
  it('filters by key, actor (tag or id), status, channel, scope and time range: exactly the matching rows', async () => {
    const { admin } = await seeded('panel_audit_filters');
    const page = (q: string) => admin.page(`/panel/audit?${q}`).then(reasons);
    expect(await page('key=flag:checkout')).toEqual(['r5', 'r2', 'r1']);
    expect(await page('actor=alice')).toEqual(['r3', 'r1']);
    expect(await page(`actor=${bob.id}`)).toEqual(['r2']);
    expect(await page('status=denied')).toEqual(['r4', 'r2']);
    expect(await page('channel=panel')).toEqual(['r4', 'r1']);
    expect(await page(`channel=${CHANNEL}`)).toEqual(['r5', 'r3']);
    expect(await page('scope=env:staging')).toEqual(['r3']);
    expect(await page('action=rollback')).toEqual(['r3']);
    // From is inclusive, to exclusive; the picker's time is read as UTC.
    expect(await page('from=2026-01-10T10:01&to=2026-01-10T10:03')).toEqual(['r3', 'r2']);
    expect(await page('key=flag:search&status=denied&channel=panel')).toEqual(['r4']);
    const bad = await admin.fetch('/panel/audit?from=yesterday');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('From is not a time');
  });

  it('shows each row with its diff, the error of a refusal, and a reason as text', async () => {
    const { admin } = await seeded('panel_audit_rows');
    const html = await admin.page('/panel/audit');
    expect(html).toContain('<code>enabled</code> <del>false</del> → <ins>true</ins>');
    expect(html).not.toContain('<code>rollout</code>');
    expect(html).toContain('<p class="error">a read token cannot change flags</p>');
    expect(html).toContain('<td class="hd-why" data-label="Why">&lt;img src=x onerror=alert(1)></td>');
    expect(html).not.toContain('<img');
    const r3 = rowsOf(html).find((r) => r.why === 'r3');
    expect(r3?.status).toBe('failed');
  });

  it('never shows a sensitive value, old or new', async () => {
    const { api, admin } = await seeded('panel_audit_secret');
    await api.runtime.config.audit.record({
      key: 'EXPORT_WEBHOOK_URL',
      action: 'set',
      status: 'success',
      actor: dave,
      channelId: 'api',
      oldValue: 'https://old.example/hook',
      newValue: 'https://secret.example/hook',
      reason: 'r7',
    });
    const html = await admin.page('/panel/audit?key=EXPORT_WEBHOOK_URL&actor=dave');
    expect(reasons(html)).toEqual(['r7']);
    expect(html).toContain('changed (a sensitive value is never shown)');
    expect(html).not.toContain('example/hook');
  });

  it('pages through every row once, rows written in the same millisecond included', async () => {
    const api = await startTestApi('panel_audit_pages');
    // 130 rows: 60 of them written in one millisecond, where a page boundary falls.
    const rows: ConfigAuditDoc[] = Array.from({ length: 130 }, (_, i) => ({
      key: 'flag:paged',
      action: 'set',
      status: 'success',
      actor: alice,
      reason: `p${i}`,
      createdAt: i >= 30 && i < 90 ? at(30) : at(i),
    }));
    await bindModels(api.runtime.config.conn).ConfigAudit.insertMany(rows);
    const member = await loginPanel(api, panelIdentity('member'));
    const seen: string[] = [];
    const sizes: number[] = [];
    let next: string | undefined = '/panel/audit?key=flag:paged';
    // A cursor that repeats rows would page forever: ten pages is past any right answer.
    while (next && sizes.length < 10) {
      const html = await member.page(next);
      const got = reasons(html);
      sizes.push(got.length);
      seen.push(...got);
      next = olderOf(html);
    }
    expect(sizes).toEqual([50, 50, 30]);
    expect(new Set(seen).size).toBe(130);
    // Newest first: the last row written at a later minute than all others leads.
    expect(seen[0]).toBe('p129');
    expect(seen.at(-1)).toBe('p0');
  });

  it('lets a read-only session read it, without write controls', async () => {
    const { api } = await seeded('panel_audit_read');
    const member = await loginPanel(api, panelIdentity('member'));
    const html = await member.page('/panel/audit?status=denied');
    expect(reasons(html)).toEqual(['r4', 'r2']);
    expect(html).not.toContain('method="post" action="/panel/history');
  });
});
