import type { APIMessage } from 'discord.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RequestKeeper } from '../../src/approvals/request-keeper.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { RequestBoard } from '../../src/discord/requests/board.js';
import { startTestApi } from '../helpers/api.js';
import { as, startBot } from '../helpers/discord.js';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';
import { answerOf, APPROVALS, HIGH, labels, text } from '../discord/requests-bot.js';

const B = panelIdentity('admin', { user: { id: as.otherAdmin().user.id, tag: 'other_admin' } });

/**
 * One process as `npm start` runs it with a token: the runtime's service behind the panel, the
 * offline bot, and the approval channel (a RequestBoard over the bot's REST, shown by the keeper).
 */
async function botAndPanel(label: string) {
  const api = await startTestApi(label, { vars: { APPROVALS_REQUIRED: 'high:1' } });
  const config = api.runtime.config;
  const bot = await startBot(config, { approvalChannelId: APPROVALS }, api.runtime);
  const board = new RequestBoard(config.requests, restNotifier(bot.discord.client.rest), APPROVALS);
  const keeper = new RequestKeeper(config, { show: (r) => board.show(r), intervalMs: 3_600_000 });
  keeper.start();
  onTestFinished(async () => {
    await keeper.stop();
    await bot.close();
  });
  const post = async (id: string): Promise<APIMessage> => {
    await keeper.settled();
    const found = [...bot.discord.messages.values()].find(
      (m) => m.channel_id === APPROVALS && text(m).includes(id),
    );
    if (!found) throw new Error(`no post of ${id}`);
    return found;
  };
  const request = async (value: string): Promise<string> => {
    const answer = answerOf(await bot.session(as.admin()).run(`/config set setting:${HIGH} value:${value}`));
    const id = /CR-[A-Z0-9]{5}/.exec(answer?.embeds[0]?.description ?? '')?.[0];
    if (!id) throw new Error(`no request id in ${JSON.stringify(answer)}`);
    return id;
  };
  return { api, bot, post, request };
}

describe('change requests in the panel and in Discord', () => {
  it('edits the Discord post of a request approved in the panel, as a button press does', async () => {
    const { api, post, request } = await botAndPanel('panel_rq_post');
    const id = await request('0.9');
    expect(labels(await post(id))).toEqual(['Approve', 'Reject', 'Details']);
    const b = await loginPanel(api, B);
    expect((await b.fetch(`/panel/requests/${id}/approve`, { form: {} })).status).toBe(303);
    const shown = await post(id);
    expect(text(shown)).toContain('**Applied** as v2');
    expect(text(shown)).toContain('applied (approved by other_admin)');
    expect(labels(shown)).toEqual([]);
    expect(api.runtime.config.get(HIGH)).toBe(0.9);
  });

  it('shows a request approved in Discord as applied on the next load of the panel', async () => {
    const { api, bot, post, request } = await botAndPanel('panel_rq_from_discord');
    const id = await request('0.91');
    const a = await loginPanel(api, panelIdentity('admin'));
    expect(await a.page(`/panel/requests/${id}`)).toContain('rq-badge rq-pending');
    await bot.session(as.otherAdmin()).pressOn(await post(id), 'Approve');
    const page = await a.page(`/panel/requests/${id}`);
    expect(page).toContain('rq-badge rq-applied');
    expect(page).toContain('Applied as v2.');
    expect(page).toContain('1 of 1: other_admin');
    expect(page).not.toContain('>Approve</button>');
  });
});

describe.skipIf(noBrowser)('a request made in Discord, approved in the panel in a browser', () => {
  const held = useBrowser('panel requests');

  it('is applied by another admin pressing Approve, and its Discord post follows', async () => {
    const { api, post, request } = await botAndPanel('panel_rq_browser');
    const id = await request('0.92');
    const b = await loginPanel(api, B);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: b.cookie, url: api.url }]);
    await page.goto(`${api.url}/panel/requests`);
    // The scripts load deferred: pressed before htmx is there, the form posts as a plain form and
    // the list it returns to shows open requests only.
    await page.waitForFunction('typeof window.htmx === "object"');
    const card = page.locator('article, section, div').filter({ hasText: id }).last();
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => api.runtime.config.get(HIGH), { timeout: 10_000 }).toBe(0.92);
    await expect
      .poll(async () => (await page.content()).includes('Applied as v2.'), { timeout: 10_000 })
      .toBe(true);
    // The post is edited by the request keeper after the apply, which a loaded machine can delay.
    await expect
      .poll(async () => text(await post(id)), { timeout: 10_000 })
      .toContain('applied (approved by other_admin)');
    await checkAxe(page);
    await screenshot(page, 'request-approved');
    expect(errors).toEqual([]);
    await context.close();
  });
});
