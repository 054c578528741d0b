import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { as } from '../helpers/discord.js';
import { answerOf, HIGH, labels, requestBot, text } from './requests-bot.js';

describe('/config request and /config requests', () => {
  it('rejects with a reason, and the post says who and why, without buttons', async () => {
    const { svc, approver, post, request } = await requestBot('rq_reject');
    const id = await request('0.9');
    const done = answerOf(
      await approver.run(`/config request reject id:${id} reason:"not before the release"`),
    );
    expect(done?.embeds[0]?.title).toBe(`Rejected ${id}`);
    const shown = await post();
    expect(text(shown)).toMatch(
      /\*\*Rejected\*\* by <@100000000000000003> \(other_admin\): not before the release/,
    );
    expect(labels(shown)).toEqual([]);
    expect(svc.get(HIGH)).toBe(0.85);
  });

  it('asks for the reason in a form when Reject is pressed, and rejects with what was typed', async () => {
    const { svc, approver, post, request } = await requestBot('rq_reject_form');
    const id = await request('0.9');
    const opened = await approver.pressOn(await post(), 'Reject');
    expect(opened.map((v) => v.kind)).toEqual(['modal']);
    expect(approver.currentModal()?.custom_id).toBe(`config:rq-reason:${id}`);
    const submitted = answerOf(await approver.submit({ reason: 'wrong key' }));
    expect(submitted?.embeds[0]?.title).toBe(`Rejected ${id}`);
    expect(await svc.requests.get(id)).toMatchObject({ status: 'rejected', rejectReason: 'wrong key' });
    expect(labels(await post())).toEqual([]);
  });

  it('lets only the requester withdraw', async () => {
    const { svc, requester, approver, post, request } = await requestBot('rq_withdraw');
    const id = await request('0.9');
    const refused = answerOf(await approver.run(`/config request withdraw id:${id}`));
    expect(refused?.embeds[0]?.title).toBe('Not allowed');
    expect(text(refused)).toContain(`Only admin, who made ${id}, can withdraw it; reject it instead.`);
    const done = answerOf(await requester.run(`/config request withdraw id:${id}`));
    expect(done?.embeds[0]?.title).toBe(`Withdrew ${id}`);
    expect((await svc.requests.get(id)).status).toBe('withdrawn');
    expect(text(await post())).toContain('**Withdrawn** by the requester.');
  });

  it('shows everything in view and the Details button, privately', async () => {
    const { bot, approver, post, request } = await requestBot('rq_view');
    const id = await request('0.9');
    const view = answerOf(await approver.run(`/config request view id:${id}`));
    expect(view?.embeds[0]?.title).toBe(`Change request ${id} · high impact`);
    expect(text(view)).toMatch(/Log: <t:\d+:f> <@100000000000000001> \(admin\): requested/);
    expect(labels({ components: view?.components ?? [] })).toEqual(['Approve', 'Reject', 'Details']);
    const details = await approver.pressOn(await post(), 'Details');
    expect(details[0]).toMatchObject({ kind: 'defer', flags: 64 });
    expect(text(answerOf(details))).toContain(`${HIGH}\` at \`global\`: \`0.85\` → \`0.9\``);
    const unknown = answerOf(await approver.run('/config request view id:CR-ZZZZZ'));
    expect(text(unknown)).toContain('No change request CR-ZZZZZ. /config requests lists them.');
    expect(bot.discord.violations).toEqual([]);
  });

  it('lists requests newest first, filtered by status', async () => {
    const { requester, approver, request } = await requestBot('rq_list');
    const first = await request('0.9');
    const second = await request('0.8');
    await requester.run(`/config request withdraw id:${first}`);
    const all = text(answerOf(await approver.run('/config requests')));
    expect(all.indexOf(second)).toBeGreaterThan(-1);
    expect(all.indexOf(second)).toBeLessThan(all.indexOf(first));
    const pending = answerOf(await approver.run('/config requests status:pending'));
    expect(pending?.embeds[0]?.title).toBe('Change requests: pending');
    expect(text(pending)).toContain(second);
    expect(text(pending)).not.toContain(first);
    expect(text(answerOf(await approver.run('/config requests status:applied')))).toContain(
      'No applied change requests.',
    );
  });

  it('lets the requester edit the value, clearing approvals, and the post says so; a bad value changes nothing', async () => {
    const { db, svc, requester, approver, post, request } = await requestBot('rq_edit', { high: 2 });
    const id = await request('0.9');
    await approver.pressOn(await post(), 'Approve');
    const bad = answerOf(await requester.run(`/config request edit id:${id} value:7`));
    expect(bad?.embeds[0]?.title).toBe('Not done');
    expect(text(bad)).toContain(HIGH);
    expect((await svc.requests.get(id)).approvals).toHaveLength(1);
    const notMine = answerOf(await approver.run(`/config request edit id:${id} value:0.95`));
    expect(notMine?.embeds[0]?.title).toBe('Not allowed');
    const edited = answerOf(await requester.run(`/config request edit id:${id} value:0.95`));
    expect(edited?.embeds[0]?.title).toBe(`Edited ${id}`);
    expect(text(edited)).toContain('1 approval was cleared');
    const now = await svc.requests.get(id);
    expect(now).toMatchObject({ approvals: [], rev: 2 });
    expect(now.changes[0]).toMatchObject({ value: 0.95, after: '0.95' });
    const shown = await post();
    expect(text(shown)).toContain('0.85` → `0.95`');
    expect(text(shown)).toContain('edited by the requester: 1 approval(s) cleared: review it again.');
    expect(text(shown)).toMatch(/Approvals: 0 of 2/);
    const audit = await bindModels(db.conn).ConfigAudit.find({ action: 'request-edit' }).lean();
    expect(audit.map((a) => a.status).sort()).toEqual(['denied', 'success']);
  });

  it('offers the ids of pending requests only to autocomplete', async () => {
    const { bot, requester, approver, request } = await requestBot('rq_complete');
    const open = await request('0.9');
    const closed = await request('0.8');
    await requester.run(`/config request withdraw id:${closed}`);
    const offered = await approver.complete('/config request approve id:');
    expect(offered.map((c) => c.value)).toEqual([open]);
    expect(offered[0]?.name).toContain(`${HIGH}: 0.85 → 0.9`);
    expect(await approver.complete(`/config request view id:${open.slice(3, 6).toLowerCase()}`)).toHaveLength(
      1,
    );
    // A server outside the allowlist gets no suggestions.
    expect(await bot.session(as.foreignAdmin()).complete('/config request approve id:')).toEqual([]);
  });
});
