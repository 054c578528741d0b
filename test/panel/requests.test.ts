import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApprovalRequired } from '../../src/approvals/gate.js';
import type { Actor } from '../../src/storage/config-models.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { loginPanel, panelIdentity, PANEL_GUILD } from '../helpers/panel.js';

const HIGH = 'AI_CONFIDENCE_THRESHOLD';
const A = panelIdentity('admin');
const B = panelIdentity('admin', { user: { id: '100000000000000003', tag: 'other_admin' } });
const C = panelIdentity('admin', { user: { id: '100000000000000007', tag: 'third_admin' } });

/** A write by `who` that needs approvals: the change request it became. */
async function requestAs(api: TestApi, who: Actor, key = HIGH, value = '0.9'): Promise<string> {
  try {
    await api.runtime.config.set(key, value, who, 'tuning', { guildId: PANEL_GUILD, channelId: 'api' });
  } catch (err) {
    if (err instanceof ApprovalRequired) return err.request.id;
    throw err;
  }
  throw new Error('the write applied: approvals are not on');
}

/** The part of a page about one request (its card). */
function card(html: string, id: string): string {
  const start = html.indexOf(`<article class="card rq" id="${id}"`);
  if (start < 0) throw new Error(`no card for ${id}`);
  return html.slice(start, html.indexOf('</article>', start));
}

const approvals = (html: string) => /<dt>Approvals<\/dt><dd>([^<]*)<\/dd>/.exec(html)?.[1];

async function panelWithRequest(label: string, required = 1) {
  const api = await startTestApi(label, { vars: { APPROVALS_REQUIRED: `high:${required}` } });
  const id = await requestAs(api, A.user);
  return { api, id, as: (who = A) => loginPanel(api, who) };
}

describe('change requests in the panel', () => {
  it("applies another admin's request approved in the panel, once, audited as the panel", async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_approve');
    const b = await as(B);
    const list = card(await b.page('/panel/requests'), id);
    expect(list).toContain('<del><span aria-hidden="true">− </span><code>0.85</code></del>');
    expect(list).toContain('<ins><span aria-hidden="true">+ </span><code>0.9</code></ins>');
    expect(approvals(list)).toBe('0 of 1');
    expect(list).toMatch(/Requested by<\/dt><dd>admin, <time/);
    expect(list).toMatch(/<button type="submit">Approve<\/button>/);

    const res = await b.fetch(`/panel/requests/${id}/approve`, { form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/panel/requests/${id}?done=approve`);
    expect(api.runtime.config.get(HIGH)).toBe(0.9);
    expect((await api.runtime.config.history(HIGH)).map((v) => v.version)).toEqual([2, 1]);
    const page = await b.page(`/panel/requests/${id}?done=approve`);
    expect(page).toContain(`You approved ${id}: it had the approvals it needs and was applied.`);
    expect(page).toContain('<p class="rq-status">Applied as v2.</p>');
    expect(page).not.toContain('>Approve</button>');

    const rows = await api.runtime.config.audit.view({ action: 'request-approve' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'success',
      channelId: 'panel',
      guildId: PANEL_GUILD,
      actor: { id: B.user.id, tag: 'other_admin' },
    });
  });

  it("shows the requester's Approve disabled with why, and refuses a forced approval", async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_own');
    const a = await as(A);
    const html = card(await a.page(`/panel/requests/${id}`), id);
    expect(html).toContain(
      `<button type="submit" disabled aria-describedby="${id}-approve-why">Approve</button>`,
    );
    expect(html).toContain(
      `<p class="hint" id="${id}-approve-why">You made this request: another admin must approve it.</p>`,
    );
    const res = await a.fetch(`/panel/requests/${id}/approve`, { form: {} });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/role="alert">You made this request: another admin must approve it\./);
    expect(api.runtime.config.get(HIGH)).toBe(0.85);
    expect(await api.runtime.config.requests.get(id)).toMatchObject({ status: 'pending', approvals: [] });
    expect(await api.runtime.config.audit.view({ action: 'request-approve' })).toMatchObject([
      { status: 'denied', channelId: 'panel', actor: { id: A.user.id } },
    ]);
  });

  it('shows a read-only login Approve and Reject disabled, and its forced approval is refused', async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_member');
    const member = await as(panelIdentity('member'));
    const html = card(await member.page('/panel/requests'), id);
    expect(html).toContain(
      `<button type="submit" disabled aria-describedby="${id}-approve-why">Approve</button>`,
    );
    expect(html).toContain('Your login is read only: it cannot approve or reject requests.');
    expect(html).toMatch(/<button type="submit" class="danger" disabled aria-describedby="[^"]+">Reject/);
    expect((await member.fetch(`/panel/requests/${id}/approve`, { form: {} })).status).toBe(403);
    expect(await api.runtime.config.requests.get(id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('needs a reason to reject, and shows the reason as text', async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_reject');
    const b = await as(B);
    const empty = await b.fetch(`/panel/requests/${id}/reject`, { form: { reason: '  ' } });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('role="alert">A rejection needs a reason.');
    expect((await api.runtime.config.requests.get(id)).status).toBe('pending');

    const reason = 'Too risky <img src=x onerror=alert(1)>';
    const res = await b.fetch(`/panel/requests/${id}/reject`, { form: { reason } });
    expect(res.status).toBe(303);
    expect(await api.runtime.config.requests.get(id)).toMatchObject({
      status: 'rejected',
      rejectReason: reason,
    });
    const html = card(await b.page('/panel/requests?show=closed'), id);
    expect(html).toContain('Rejected by other_admin: Too risky &lt;img src=x onerror=alert(1)>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('>Approve</button>');
    expect(
      await api.runtime.config.audit.view({ action: 'request-reject', status: 'success' }),
    ).toMatchObject([{ channelId: 'panel', actor: { id: B.user.id } }]);
  });

  it('lets only the requester withdraw', async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_withdraw');
    const b = await as(B);
    expect(card(await b.page('/panel/requests'), id)).not.toContain('Withdraw');
    const refused = await b.fetch(`/panel/requests/${id}/withdraw`, { form: {} });
    expect(refused.status).toBe(403);
    expect((await api.runtime.config.requests.get(id)).status).toBe('pending');

    const a = await as(A);
    expect(card(await a.page('/panel/requests'), id)).toContain('>Withdraw</button>');
    expect((await a.fetch(`/panel/requests/${id}/withdraw`, { form: {} })).status).toBe(303);
    expect(await api.runtime.config.requests.get(id)).toMatchObject({
      status: 'withdrawn',
      decidedBy: { id: A.user.id },
    });
    expect(await b.page(`/panel/requests/${id}`)).toContain('Withdrawn by the requester.');
  });

  it('clears the approvals when the requester edits the value; others cannot edit', async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_edit', 2);
    await api.runtime.config.requests.approve(id, C.user, { channelId: 'api' });
    const a = await as(A);
    expect(approvals(await a.page(`/panel/requests/${id}`))).toBe('1 of 2: third_admin');
    const b = await as(B);
    expect((await b.fetch(`/panel/requests/${id}/edit`, { form: { value: '0.95' } })).status).toBe(403);

    const bad = await a.fetch(`/panel/requests/${id}/edit`, { form: { value: 'lots' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('role="alert"');
    expect((await api.runtime.config.requests.get(id)).approvals).toHaveLength(1);

    expect((await a.fetch(`/panel/requests/${id}/edit`, { form: { value: '0.95' } })).status).toBe(303);
    const after = await api.runtime.config.requests.get(id);
    expect(after).toMatchObject({ status: 'pending', approvals: [], rev: 2 });
    expect(after.changes[0]).toMatchObject({ value: 0.95, after: '0.95' });
    const page = await a.page(`/panel/requests/${id}?done=edit`);
    expect(approvals(page)).toBe('0 of 2');
    expect(page).toContain('edited by the requester: 1 approval(s) cleared');
    expect(api.runtime.config.get(HIGH)).toBe(0.85);
  });

  it('applies once when two admins approve at the same moment', async () => {
    const { api, id, as } = await panelWithRequest('panel_rq_race');
    const [b, c] = await Promise.all([as(B), as(C)]);
    const answers = await Promise.all(
      [b, c].map((who) => who.fetch(`/panel/requests/${id}/approve`, { form: {} })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual(
      answers.some((r) => r.status === 409) ? [303, 409] : [303, 303],
    );
    expect(api.runtime.config.get(HIGH)).toBe(0.9);
    expect((await api.runtime.config.history(HIGH)).map((v) => v.version)).toEqual([2, 1]);
    expect((await api.runtime.config.requests.get(id)).status).toBe('applied');
    expect(await api.runtime.config.audit.view({ action: 'request-apply' })).toHaveLength(1);
  });

  it('answers an htmx step with the request card alone, a refusal included', async () => {
    const { id, as } = await panelWithRequest('panel_rq_htmx');
    const htmx = { 'hx-request': 'true' };
    const a = await as(A);
    const own = await a.fetch(`/panel/requests/${id}/approve?open=1`, { form: {}, headers: htmx });
    expect(own.status).toBe(403);
    const refused = await own.text();
    expect(refused).toMatch(new RegExp(`^<article class="card rq" id="${id}"`));
    expect(refused).toContain('role="alert">You made this request: another admin must approve it.');
    expect(refused).toContain(`hx-post="/panel/requests/${id}/approve?open=1"`);

    const b = await as(B);
    const ok = await b.fetch(`/panel/requests/${id}/approve`, { form: {}, headers: htmx });
    expect(ok.status).toBe(200);
    const body = await ok.text();
    expect(body).toMatch(new RegExp(`^<article class="card rq" id="${id}"`));
    expect(body).toContain(
      `role="status">You approved ${id}: it had the approvals it needs and was applied.`,
    );
    // What the live refresh fetches when the request's key changes.
    const card = await b.page(`/panel/requests/${id}/card`);
    expect(card).toMatch(/^<article /);
    expect(card).toContain('data-live-key="AI_CONFIDENCE_THRESHOLD"');
  });

  it('masks a sensitive value in the diff', async () => {
    const api = await startTestApi('panel_rq_secret', {
      vars: { APPROVALS_REQUIRED: 'medium:1', CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
    });
    const id = await requestAs(api, A.user, 'EXPORT_WEBHOOK_URL', 'https://hooks.example.com/s3cret-path');
    const b = await loginPanel(api, B);
    const html = card(await b.page(`/panel/requests/${id}`), id);
    expect(html).toContain('<code>••••••</code>');
    expect(html).not.toContain('s3cret');
  });
});
