import type { APIMessage } from 'discord.js';
import { onTestFinished } from 'vitest';
import type { ImpactLevel } from '../../src/config/registry.js';
import { RequestKeeper } from '../../src/approvals/request-keeper.js';
import { buttonsOf, type ReplyView } from '../../src/offline/console-session.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { RequestBoard } from '../../src/discord/requests/board.js';
import { as, displayed, startBot } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

export const APPROVALS = '950000000000000001';
export const HIGH = 'AI_CONFIDENCE_THRESHOLD';

/**
 * A bot over a service of the test's own with approvals on, and the approval channel as the bot
 * process runs it: a RequestBoard over the harness's REST, shown by a RequestKeeper (whose timer
 * is left to the test: call keeper.tick()).
 */
export async function requestBot(
  label: string,
  approvals: Partial<Record<ImpactLevel, number>> = { high: 1 },
  approvalTtlMs?: number,
) {
  const { db, svc } = await freshService(label, { approvals, ...(approvalTtlMs ? { approvalTtlMs } : {}) });
  const bot = await startBot(svc, { approvalChannelId: APPROVALS });
  const board = new RequestBoard(svc.requests, restNotifier(bot.discord.client.rest), APPROVALS);
  const keeper = new RequestKeeper(svc, { show: (r) => board.show(r), intervalMs: 3_600_000 });
  keeper.start();
  await keeper.tick();
  onTestFinished(async () => {
    await keeper.stop();
    await bot.close();
  });
  const requester = bot.session(as.admin());
  const approver = bot.session(as.otherAdmin());
  /** The posts in the approval channel, as Discord now shows them. */
  const posts = (): APIMessage[] =>
    [...bot.discord.messages.values()].filter((m) => m.channel_id === APPROVALS);
  /** The one post of the approval channel, once every show started has finished. */
  const post = async (): Promise<APIMessage> => {
    await keeper.settled();
    const all = posts();
    if (all.length !== 1) throw new Error(`expected one post in the approval channel, found ${all.length}`);
    return all[0] as APIMessage;
  };
  /** Makes a request as the requester: a set of HIGH; returns its id. */
  const request = async (value: string): Promise<string> => {
    const answer = answerOf(await requester.run(`/config set setting:${HIGH} value:${value}`));
    const id = /CR-[A-Z0-9]{5}/.exec(answer?.embeds[0]?.description ?? '')?.[0];
    if (!id) throw new Error(`no request id in ${JSON.stringify(answer)}`);
    return id;
  };
  return { db, svc, bot, board, keeper, requester, approver, posts, post, request };
}

/** Everything an embed says, as a user reads it. */
export function text(view: Pick<ReplyView, 'embeds'> | Pick<APIMessage, 'embeds'> | undefined): string {
  return (view?.embeds ?? [])
    .map((e) =>
      displayed(
        [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`), e.footer?.text]
          .filter(Boolean)
          .join('\n'),
      ),
    )
    .join('\n');
}

/** The private answer among the calls of one interaction (its edits of the post left out). */
export function answerOf(views: ReplyView[]): ReplyView | undefined {
  return views.filter((v) => v.kind === 'editReply' || v.kind === 'reply' || v.kind === 'update').at(-1);
}

export const labels = (m: Pick<APIMessage, 'components'>) => buttonsOf(m).map((b) => b.label);
