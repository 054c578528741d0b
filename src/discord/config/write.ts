import { answerExpired, confirmRow } from '../confirm-ui.js';
import {
  EmbedBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserError } from '../../errors.js';
import { present } from '../../config/present.js';
import { parseAt, parseFor } from '../../config/when.js';
import type { WriteSuccess } from '../../config/types.js';
import { actorOf, contextOf } from '../access.js';
import type { PendingAction } from '../confirmations.js';
import { editReply, update } from '../reply.js';
import { appliedLine } from './applied.js';
import { addImpact, dryRunEmbed, impactFor } from './impact.js';
import { openEditor } from './modal.js';
import { COLOR, previewEmbed, scheduledEmbed, writeEmbed } from '../render.js';
import type { CommandContext } from '../types.js';

// Access, the acknowledgement (these are deferred: the database can take longer than Discord's
// 3 seconds) and the attempt limit are enforced before these run: see `requires` in commands/config.ts.

/** `/config set`: a typed value, or, for a JSON object or a text without one, the editor (modal.ts). */
export async function set(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const value = i.options.getString('value');
  if (value === null) return openEditor(i, ctx);
  await setValue(i, ctx, {
    setting: i.options.getString('setting', true),
    value,
    reason: i.options.getString('reason') ?? undefined,
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
    forText: i.options.getString('for'),
    atText: i.options.getString('at'),
    dryRun: i.options.getBoolean('dry-run') === true,
  });
}

/** What a set asks for, typed as options or submitted from the editor. */
export interface SetRequest {
  setting: string;
  value: string;
  reason?: string;
  scope: string | null;
  forText?: string | null;
  atText?: string | null;
  /** From the editor: the version it opened at; the write is refused if the key moved since. */
  expectedVersion?: number;
  /** Show the impact preview and change nothing. */
  dryRun?: boolean;
}

/** The one set path of Discord, for typed values and the editor's (modal-submit.ts) alike. */
export async function setValue(
  i: ChatInputCommandInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  r: SetRequest,
): Promise<void> {
  const { scope } = r;
  if (r.dryRun) {
    const preview = await ctx.config.previewSet(r.setting, r.value, actorOf(i), r.reason, contextOf(i), {
      scope,
    });
    await editReply(i, { embeds: [dryRunEmbed(await impactFor(ctx, preview))] });
    return;
  }
  const forMs = r.forText ? parseFor(r.forText) : undefined;
  const timing = forMs !== undefined ? { forMs } : {};
  if (r.atText) {
    const at = parseAt(r.atText, String(ctx.config.get('SCHEDULE_TIMEZONE')));
    const planned = await ctx.config.timed.schedule(
      r.setting,
      r.value,
      at,
      actorOf(i),
      r.reason,
      contextOf(i),
      { scope, ...timing },
    );
    await editReply(i, { embeds: [scheduledEmbed(planned)] });
    return;
  }
  const guard = r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {};
  const result = await ctx.config.set(r.setting, r.value, actorOf(i), r.reason, contextOf(i), {
    scope,
    ...timing,
    ...guard,
  });
  await answerWrite(i, ctx, result);
}

export async function rollback(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const setting = i.options.getString('setting', true);
  const toVersion = i.options.getInteger('version', true);
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewRollback(setting, toVersion, actorOf(i), reason, contextOf(i), {
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
  });
  const embed = addImpact(
    previewEmbed('rollback', preview, ctx.confirmations.timeoutMs),
    await impactFor(ctx, preview),
  );
  await ask(i, ctx, preview.key, 'rollback', embed, {
    toVersion,
    scope: preview.scope,
    expectedVersion: preview.currentVersion,
  });
}

export async function reset(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const setting = i.options.getString('setting', true);
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewReset(setting, actorOf(i), reason, contextOf(i), {
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
  });
  const embed = addImpact(
    previewEmbed('reset', preview, ctx.confirmations.timeoutMs),
    await impactFor(ctx, preview),
  );
  await ask(i, ctx, preview.key, 'reset', embed, {
    scope: preview.scope,
    expectedVersion: preview.currentVersion,
  });
}

/** Shows what will change with Confirm and Cancel buttons that expire. */
async function ask(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  key: string,
  action: PendingAction['action'],
  embed: EmbedBuilder,
  extra: { toVersion?: number; scope: string; expectedVersion: number },
): Promise<void> {
  const reason = i.options.getString('reason') ?? undefined;
  const seconds = Math.round(ctx.confirmations.timeoutMs / 1000);
  const id = ctx.confirmations.create({ userId: i.user.id, action, key, reason, ...extra }, async () => {
    await editReply(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Expired: ${action} of ${key}`)
          .setDescription(`Not confirmed within ${seconds} seconds; nothing was changed.`),
      ],
      components: [],
    });
  });
  const row = confirmRow(`config:confirm:${id}`, `config:cancel:${id}`);
  await editReply(i, { embeds: [embed], components: [row] });
}

/** Confirm and Cancel of a pending rollback or reset: custom id `config:confirm:<id>` / `config:cancel:<id>`. */
export async function confirmationButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  confirmed: boolean,
  id: string,
): Promise<void> {
  const pending = ctx.confirmations.peekFor(id);
  if (!pending) {
    await answerExpired(i);
    return;
  }
  if (pending.userId !== i.user.id) {
    throw new UserError(
      'PERMISSION_DENIED',
      `Only the admin who asked for this ${pending.action} can confirm or cancel it.`,
      { key: pending.key, action: pending.action },
      `confirmation of ${pending.userId} pressed by ${i.user.id}`,
    );
  }
  ctx.confirmations.takeFor(id);
  if (!confirmed) {
    await update(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Cancelled: ${pending.action} of ${pending.key}`)
          .setDescription('Nothing was changed.'),
      ],
      components: [],
    });
    return;
  }
  await i.deferUpdate();
  // The service refuses (and audits) the write if the key moved since the preview.
  const actor = actorOf(i);
  const guard = { expectedVersion: pending.expectedVersion, scope: pending.scope };
  const result =
    pending.action === 'rollback'
      ? await ctx.config.rollback(
          pending.key,
          pending.toVersion ?? 0,
          actor,
          pending.reason,
          contextOf(i),
          guard,
        )
      : await ctx.config.reset(pending.key, actor, pending.reason, contextOf(i), guard);
  await answerWrite(i, ctx, result, { components: [] });
}

/**
 * Answers a committed write, then edits the answer to say which live processes applied it (within
 * a few seconds; see appliedLine).
 */
async function answerWrite(
  i: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  result: WriteSuccess,
  extra: { components?: [] } = {},
): Promise<void> {
  const embed = await resultEmbed(i, ctx, result);
  await editReply(i, { embeds: [embed], ...extra });
  const instances = ctx.runtime?.instances;
  if (!instances || result.seq === undefined) return;
  const line = await appliedLine(instances, result.seq, result.at ?? new Date());
  if (!line) return;
  await editReply(i, { embeds: [embed.addFields({ name: 'Processes', value: line })] });
}

/** The embed of a committed write, once the change is counted against the user's limit. */
async function resultEmbed(
  i: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  result: WriteSuccess,
): Promise<EmbedBuilder> {
  await ctx.limits.recordChange(i.user.id);
  const def = ctx.config.definition(result.key);
  return writeEmbed(result, (v) => present(def, v), def.requiresRestart);
}
