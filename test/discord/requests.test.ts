import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { RequestBoard } from '../../src/discord/requests/board.js';
import { openService } from '../helpers/db.js';
import { as } from '../helpers/discord.js';
import { answerOf, APPROVALS, HIGH, labels, requestBot, text } from './requests-bot.js';

const ADMIN = { id: '100000000000000001', tag: 'admin' };
const OTHER = { id: '100000000000000003', tag: 'other_admin' };

describe('change requests in Discord', () => {
  it('answers a set that needs approval with "Approval needed", changes nothing, and posts it once with three buttons', async () => {
    const { db, svc, bot, keeper, requester, post, posts, request } = await requestBot('rq_created');
    const answer = answerOf(
      await requester.run(`/config set setting:${HIGH} value:0.9 reason:"fewer false hits"`),
    );
    const embed = answer?.embeds[0];
    expect(embed?.title).toBe('Approval needed');
    expect(embed?.color).not.toBe(0xe74c3c);
    const id = /CR-[A-Z0-9]{5}/.exec(text(answer))?.[0] ?? '';
    expect(text(answer)).toContain(`Change request **${id}** was created`);
    expect(text(answer)).toContain('Approvals: 0 of 1');
    expect(text(answer)).toContain(`Posted in <#${APPROVALS}>`);
    expect(text(answer)).toContain(`/config request view id:${id}`);
    expect(svc.get(HIGH)).toBe(0.85);
    expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: HIGH })).toBe(1);

    const shown = await post();
    expect(shown.embeds[0]?.title).toBe(`Change request ${id} · high impact`);
    expect(text(shown)).toContain(`${HIGH}\` at \`global\`: \`0.85\` → \`0.9\` (against v1)`);
    expect(text(shown)).toContain('Reason: fewer false hits');
    expect(text(shown)).toContain(`Rollback plan: /config rollback setting:${HIGH} version:1`);
    expect(text(shown)).toMatch(/Expires: <t:\d+:R>/);
    expect(labels(shown)).toEqual(['Approve', 'Reject', 'Details']);
    expect(JSON.stringify(shown.components)).toContain(`"custom_id":"config:rq-approve:${id}"`);

    // Another bot process showing the same request (its own board, the same database) posts nothing.
    const other = await openService(db, { approvals: { high: 1 } });
    const otherBoard = new RequestBoard(other.requests, restNotifier(bot.discord.client.rest), APPROVALS);
    const again = await request('0.91');
    await Promise.all([otherBoard.show({ id: again }), otherBoard.show({ id })]);
    await other.close();
    await keeper.settled();
    expect(posts().filter((m) => text(m).includes(again))).toHaveLength(1);
    expect(posts().filter((m) => text(m).includes(id))).toHaveLength(1);
    expect(bot.discord.violations).toEqual([]);
  });

  it("refuses the requester's own Approve (audited once), and applies another admin's, editing the post to applied", async () => {
    const { db, svc, bot, requester, approver, post, request } = await requestBot('rq_approve');
    const id = await request('0.9');
    const pressed = await requester.pressOn(await post(), 'Approve');
    const [ack] = pressed;
    const refused = answerOf(pressed);
    // Answered privately: the post is shared.
    expect(ack).toMatchObject({ kind: 'defer', flags: 64 });
    expect(refused?.embeds[0]?.title).toBe('Not allowed');
    expect(text(refused)).toContain('You made this request: another admin must approve it.');
    expect(svc.get(HIGH)).toBe(0.85);
    const audit = await bindModels(db.conn).ConfigAudit.find({ status: 'denied' }).lean();
    expect(audit.map((a) => `${a.action}:${a.actor.id}`)).toEqual([`request-approve:${ADMIN.id}`]);

    const pressed2 = await approver.pressOn(await post(), 'Approve');
    const [ack2] = pressed2;
    const applied = answerOf(pressed2);
    expect(ack2).toMatchObject({ kind: 'defer', flags: 64 });
    expect(applied?.embeds[0]?.title).toBe(`Approved and applied ${id}`);
    expect(svc.get(HIGH)).toBe(0.9);
    const v2 = await bindModels(db.conn).ConfigVersion.findOne({ key: HIGH, version: 2 }).lean();
    expect(v2).toMatchObject({ request: id, approvers: [OTHER], actor: ADMIN });

    const after = await post();
    expect(labels(after)).toEqual([]);
    expect(text(after)).toContain('**Applied** as v2');
    expect(text(after)).toContain('applied as v2');
    expect(text(after)).toMatch(/Approvals: 1 of 1: <@100000000000000003>/);
    expect(bot.discord.violations).toEqual([]);
  });

  it("keeps a value's warnings on the request: the requester, the post, the request's view and details show them, and an edit replaces them", async () => {
    const { requester, approver, post } = await requestBot('rq_warnings');
    const warning =
      '0.97 is above 0.95: most predictions will go to manual review, expect excessive review load.';
    const answer = answerOf(await requester.run(`/config set setting:${HIGH} value:0.97`));
    expect(answer?.embeds[0]?.title).toBe('Approval needed');
    expect(text(answer)).toContain(`⚠️ Warnings: ${warning}`);
    const id = /CR-[A-Z0-9]{5}/.exec(text(answer))?.[0] ?? '';

    const shown = await post();
    expect(text(shown)).toContain(`⚠️ Warnings: ${warning}`);
    // Said once, not again among the preview's lines.
    expect(text(shown).split(warning)).toHaveLength(2);
    const viewed = answerOf(await approver.run(`/config request view id:${id}`));
    expect(text(viewed)).toContain(`⚠️ Warnings: ${warning}`);
    const details = answerOf(await approver.pressOn(shown, 'Details'));
    expect(text(details)).toContain(`⚠️ Warnings: ${warning}`);

    // Edited to a value within the soft limit: no warning is left; back above it: the new one.
    await requester.run(`/config request edit id:${id} value:0.9`);
    expect(text(answerOf(await approver.run(`/config request view id:${id}`)))).not.toContain('Warnings');
    await requester.run(`/config request edit id:${id} value:0.99`);
    expect(text(answerOf(await approver.run(`/config request view id:${id}`)))).toContain(
      '⚠️ Warnings: 0.99 is above 0.95',
    );
  });

  it('shows 1 of 2 after the first approval when two are needed', async () => {
    const { svc, approver, post, request } = await requestBot('rq_quorum', { high: 2 });
    const id = await request('0.8');
    const answer = answerOf(await approver.pressOn(await post(), 'Approve'));
    expect(answer?.embeds[0]?.title).toBe(`Approved ${id}`);
    expect(text(answer)).toContain('Approvals: 1 of 2');
    const shown = await post();
    expect(text(shown)).toMatch(/Approvals: 1 of 2: <@100000000000000003>/);
    expect(labels(shown)).toEqual(['Approve', 'Reject', 'Details']);
    const twice = answerOf(await approver.pressOn(shown, 'Approve'));
    expect(text(twice)).toContain(`You approved ${id} already.`);
    expect(svc.get(HIGH)).toBe(0.85);
  });

  it('applies once when two admins press Approve at the same moment', async () => {
    const { db, svc, bot, post, request } = await requestBot('rq_race');
    await request('0.7');
    const message = await post();
    const from = bot.discord.calls.length;
    await Promise.all([
      bot.session(as.otherAdmin()).pressOn(message, 'Approve'),
      bot.session(as.roleAdmin()).pressOn(message, 'Approve'),
    ]);
    // The two answers (the interactions ran together, so their calls interleave): both approved,
    // or, when one approval applied the request before the other was read, "it is applied".
    const answers = bot.discord.calls
      .slice(from)
      .filter((c) => c.kind === 'editReply')
      .map((c) => (c.body?.embeds as { title?: string; description?: string }[] | undefined)?.[0] ?? {});
    expect(answers).toHaveLength(2);
    expect(answers.some((a) => String(a.title).startsWith('Approved'))).toBe(true);
    for (const a of answers)
      if (!String(a.title).startsWith('Approved'))
        expect(a.description).toMatch(/ is applied; nothing was changed\./);
    const applies = await bindModels(db.conn).ConfigAudit.find({ action: 'request-apply' }).lean();
    expect(applies.map((a) => a.status)).toEqual(['success']);
    expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: HIGH })).toBe(2);
    expect(svc.get(HIGH)).toBe(0.7);
    expect(labels(await post())).toEqual([]);
  });

  it('turns a confirmed rollback or reset into a request: Confirm answers "Approval needed" without buttons', async () => {
    const { db, svc, requester, posts } = await requestBot('rq_rollback');
    const direct = await openService(db);
    await direct.set(HIGH, '0.9', OTHER);
    await direct.close();
    await svc.refresh();
    const [, preview] = await requester.run(`/config rollback setting:${HIGH} version:1`);
    expect(labels({ components: preview?.components ?? [] })).toEqual(['Confirm', 'Cancel']);
    const answer = answerOf(await requester.press('Confirm'));
    expect(answer?.embeds[0]?.title).toBe('Approval needed');
    expect(text(answer)).toContain(`${HIGH}\` at \`global\`: \`0.9\` → \`0.85\` (against v2)`);
    expect(requester.current()?.components).toEqual([]);
    expect(svc.get(HIGH)).toBe(0.9);

    await requester.run(`/config reset setting:${HIGH}`);
    const reset = answerOf(await requester.press('Confirm'));
    expect(reset?.embeds[0]?.title).toBe('Approval needed');
    expect((await svc.requests.list('pending')).map((r) => r.kind).sort()).toEqual(['reset', 'rollback']);
    await expect.poll(() => posts().length).toBe(2);
  });
});
