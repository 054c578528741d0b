import { EmbedBuilder, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { parseFlag } from '@config-bot/client/flags';
import { flagChanges } from '../../flags/diff.js';
import { slotOfFlag, type FlagWrite, type StoredFlag } from '../../flags/types.js';
import type { AuditAction } from '../../storage/config-models.js';
import { actorOf, contextOf } from '../access.js';
import { confirmation } from '../confirm.js';
import { COLOR, LIMITS, safe, truncate } from '../render.js';
import { editReply } from '../reply.js';
import type { CommandContext } from '../types.js';
import { answerWrite } from './answer.js';
import { turnOff } from './edits.js';
import { nameOf, reasonOf } from './options.js';
import { summary, writeEmbed } from './render.js';

// The /flag changes that ask first (switching off in production, archiving a flag on there, a
// rollback): each shows what would change with Confirm and Cancel (confirm.ts).

/** `/flag off` of a flag in production: shows what would change, with Confirm and Cancel. */
export async function askOff(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
  env: string | undefined,
): Promise<void> {
  const name = held.flag.name;
  const next = parseFlag(turnOff(held.flag, env).flag);
  const changes = next.ok ? flagChanges(held.flag, next.flag) : [];
  const title = env
    ? `Turn off ${name} in ${env}?`
    : `Switch off ${name} everywhere (kill switch)? It is on in production.`;
  await ask(
    i,
    ctx,
    held,
    'set',
    `turning off ${name}${env ? ` in ${env}` : ''}`,
    title,
    changes,
    async (b, guard) => {
      const result = await ctx.flags.update(
        name,
        (f) => turnOff(f, env).flag,
        actorOf(b),
        reasonOf(i),
        contextOf(b),
        guard,
      );
      return [env ? `Turned off in ${env}:` : 'Turned off', result];
    },
  );
}

/** `/flag archive` of a flag on in production: it will be off everywhere, so it asks first. */
export async function askArchive(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
): Promise<void> {
  const name = held.flag.name;
  const changes = flagChanges(held.flag, { ...held.flag, enabled: false, archived: true });
  const title = `Archive ${name}? It is on in production and will be off everywhere.`;
  await ask(i, ctx, held, 'archive', `archive of ${name}`, title, changes, async (b, guard) => [
    'Archived',
    await ctx.flags.archive(name, actorOf(b), reasonOf(i), contextOf(b), guard),
  ]);
}

/** `/flag rollback`: shows what the rollback would change, with Confirm and Cancel. */
export async function askRollback(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const toVersion = i.options.getInteger('version', true);
  const preview = await ctx.flags.previewRollback(nameOf(i), toVersion);
  const name = preview.name;
  const held = { ...ctx.flags.require(name), version: preview.currentVersion };
  const title = `Roll back ${name} to version ${toVersion}?`;
  const what = `rollback of ${name} to v${toVersion}`;
  await ask(i, ctx, held, 'rollback', what, title, preview.changes, async (b, guard) => [
    'Rolled back',
    await ctx.flags.rollback(name, toVersion, actorOf(b), reasonOf(i), contextOf(b), guard),
  ]);
}

/** Carries out a confirmed change, refused (and audited) by the store if the flag moved since. */
type CarryOut = (
  b: ButtonInteraction,
  guard: { expectedVersion: number },
) => Promise<[title: string, result: FlagWrite]>;

async function ask(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  held: StoredFlag,
  action: AuditAction,
  what: string,
  title: string,
  changes: string[],
  carryOut: CarryOut,
): Promise<void> {
  const seconds = Math.round(ctx.confirmations.timeoutMs / 1000);
  const buttons = confirmation(i, ctx, {
    what,
    asked: what,
    attempt: { key: slotOfFlag(held.flag.name), action },
    async confirm(b) {
      const [done, result] = await carryOut(b, { expectedVersion: held.version });
      await answerWrite(b, ctx, writeEmbed(done, result), result, { components: [] });
    },
  });
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
  await editReply(i, { embeds: [embed], components: [buttons] });
}
