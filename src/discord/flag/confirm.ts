import { answerExpired, confirmRow } from '../confirm-ui.js';
import { EmbedBuilder, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../errors.js';
import { parseFlag } from '../../flags/model.js';
import { flagChanges } from '../../flags/store/diff.js';
import { flagOfSlot, slotOfFlag, type FlagWrite, type StoredFlag } from '../../flags/store/types.js';
import { actorOf, contextOf } from '../access.js';
import type { PendingAction } from '../confirmations.js';
import { customIdPart } from '../preconditions.js';
import { COLOR, LIMITS, safe, truncate } from '../render.js';
import { editReply, update } from '../reply.js';
import type { CommandContext, Invocation } from '../types.js';
import { answerWrite } from './answer.js';
import { turnOff } from './edits.js';
import { nameOf, reasonOf } from './options.js';
import { summary, writeEmbed } from './render.js';

type FlagPending = Pick<PendingAction, 'action' | 'toVersion' | 'environment'>;

const what = (p: FlagPending, name: string) =>
  p.action === 'rollback'
    ? `rollback of ${name} to v${p.toVersion ?? '?'}`
    : p.action === 'archive'
      ? `archive of ${name}`
      : `turning off ${name}${p.environment ? ` in ${p.environment}` : ''}`;

/** The pending change a Confirm or Cancel stands for; null once expired or used (nothing to authorise). */
export function pendingAttempt(i: Invocation, ctx: CommandContext) {
  const pending = ctx.confirmations.peekFor(customIdPart(i, 2), 'flag');
  return pending ? { key: pending.key, action: pending.action } : null;
}

/** `/flag off` of a flag in production: shows what would change, with Confirm and Cancel. */
export async function askOff(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
  env: string | undefined,
): Promise<void> {
  const next = parseFlag(turnOff(held.flag, env).flag);
  const changes = next.ok ? flagChanges(held.flag, next.flag) : [];
  const title = env
    ? `Turn off ${held.flag.name} in ${env}?`
    : `Switch off ${held.flag.name} everywhere (kill switch)? It is on in production.`;
  await ask(i, ctx, held, { action: 'set', ...(env ? { environment: env } : {}) }, title, changes);
}

export async function askArchive(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
): Promise<void> {
  const changes = flagChanges(held.flag, { ...held.flag, enabled: false, archived: true });
  const title = `Archive ${held.flag.name}? It is on in production and will be off everywhere.`;
  await ask(i, ctx, held, { action: 'archive' }, title, changes);
}

/** `/flag rollback`: shows what the rollback would change, with Confirm and Cancel. */
export async function rollback(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const toVersion = i.options.getInteger('version', true);
  const preview = await ctx.flags.previewRollback(nameOf(i), toVersion);
  const held = ctx.flags.require(preview.name);
  await ask(
    i,
    ctx,
    { ...held, version: preview.currentVersion },
    { action: 'rollback', toVersion },
    `Roll back ${preview.name} to version ${toVersion}?`,
    preview.changes,
  );
}

async function ask(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
  pending: FlagPending,
  title: string,
  changes: string[],
): Promise<void> {
  const name = held.flag.name;
  const seconds = Math.round(ctx.confirmations.timeoutMs / 1000);
  const reason = reasonOf(i);
  const id = ctx.confirmations.create(
    {
      userId: i.user.id,
      command: 'flag',
      key: slotOfFlag(name),
      scope: 'global',
      expectedVersion: held.version,
      ...(reason ? { reason } : {}),
      ...pending,
    },
    async () => {
      await editReply(i, {
        embeds: [
          new EmbedBuilder()
            .setColor(COLOR.muted)
            .setTitle(`Expired: ${what(pending, name)}`)
            .setDescription(`Not confirmed within ${seconds} seconds; nothing was changed.`),
        ],
        components: [],
      });
    },
  );
  const embed = new EmbedBuilder()
    .setColor(COLOR.warn)
    .setTitle(title)
    .addFields(
      {
        name: 'Changes',
        value: truncate(changes.map((c) => `• ${safe(c, 300)}`).join('\n') || 'none', LIMITS.fieldValue),
      },
      { name: 'Now', value: `${summary(held.flag)} (v${held.version})` },
    )
    .setFooter({
      text: `Confirm within ${seconds} seconds. Only you can press these buttons. If the flag changes meanwhile, Confirm is refused.`,
    });
  const row = confirmRow(`flag:confirm:${id}`, `flag:cancel:${id}`);
  await editReply(i, { embeds: [embed], components: [row] });
}

/** Confirm and Cancel: custom id `flag:confirm:<id>` / `flag:cancel:<id>`. */
export async function confirmationButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  confirmed: boolean,
  id: string,
): Promise<void> {
  const pending = ctx.confirmations.peekFor(id, 'flag');
  if (!pending) {
    await answerExpired(i);
    return;
  }
  const name = flagOfSlot(pending.key) ?? pending.key;
  if (pending.userId !== i.user.id)
    throw new UserError(
      'PERMISSION_DENIED',
      `Only the admin who asked for this ${what(pending, name)} can confirm or cancel it.`,
      { key: pending.key, action: pending.action },
      `confirmation of ${pending.userId} pressed by ${i.user.id}`,
    );
  ctx.confirmations.takeFor(id, 'flag');
  if (!confirmed) {
    await update(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Cancelled: ${what(pending, name)}`)
          .setDescription('Nothing was changed.'),
      ],
      components: [],
    });
    return;
  }
  await i.deferUpdate();
  // The store refuses (and audits) the write if the flag moved since the preview.
  const [title, result] = await carryOut(i, ctx, pending, name);
  await answerWrite(i, ctx, writeEmbed(title, result), result, { components: [] });
}

async function carryOut(
  i: ButtonInteraction,
  ctx: CommandContext,
  p: PendingAction,
  name: string,
): Promise<[string, FlagWrite]> {
  const guard = { expectedVersion: p.expectedVersion };
  const actor = actorOf(i);
  if (p.action === 'rollback')
    return [
      'Rolled back',
      await ctx.flags.rollback(name, p.toVersion ?? 0, actor, p.reason, contextOf(i), guard),
    ];
  if (p.action === 'archive')
    return ['Archived', await ctx.flags.archive(name, actor, p.reason, contextOf(i), guard)];
  const env = p.environment;
  const result = await ctx.flags.update(
    name,
    (f) => turnOff(f, env).flag,
    actor,
    p.reason,
    contextOf(i),
    guard,
  );
  return [env ? `Turned off in ${env}:` : 'Turned off', result];
}
