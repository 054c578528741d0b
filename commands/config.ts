import {
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandStringOption,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { CATEGORIES } from '../src/config/registry.js';
import { MAX_REASON_LENGTH, MAX_VALUE_LENGTH } from '../src/config/validate.js';
import { autocomplete as settingAutocomplete } from '../src/discord/config/complete.js';
import {
  history,
  historyButton,
  list,
  listButton,
  scopeFromCode,
  status,
  view,
} from '../src/discord/config/read.js';
import { cancelPendingButton, pending } from '../src/discord/config/pending.js';
import {
  tokenAttempt,
  tokenAutocomplete,
  tokenCreate,
  tokenList,
  tokenRevoke,
} from '../src/discord/config/tokens.js';
import { confirmationButton, reset, rollback, set } from '../src/discord/config/write.js';
import { customIdPart, subcommandOf } from '../src/discord/preconditions.js';
import type { CommandContext, Invocation, Requirements } from '../src/discord/types.js';

const settingOption = (o: SlashCommandStringOption) =>
  o.setName('setting').setDescription('Setting name').setRequired(true).setAutocomplete(true);
const scopeOption = (o: SlashCommandStringOption) =>
  o
    .setName('scope')
    .setDescription('Where: global (default), env:<name> or guild:<server id>')
    .setMaxLength(40)
    .setAutocomplete(true);
const reasonOption = (o: SlashCommandStringOption) =>
  o.setName('reason').setDescription('Why (kept in the history)').setMaxLength(MAX_REASON_LENGTH);

export const data = new SlashCommandBuilder()
  .setName('config')
  .setDescription("View and change the application's configuration")
  // Hidden from non-admins by default; server admins can widen it, so access is checked in code too.
  .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) =>
    s
      .setName('view')
      .setDescription('Show one setting: the value in force here and where it comes from')
      .addStringOption(settingOption)
      .addStringOption(scopeOption),
  )
  .addSubcommand((s) =>
    s
      .setName('set')
      .setDescription('Change a setting')
      .addStringOption(settingOption)
      .addStringOption((o) =>
        o
          .setName('value')
          .setDescription('New value')
          .setRequired(true)
          .setMaxLength(MAX_VALUE_LENGTH)
          .setAutocomplete(true),
      )
      .addStringOption(reasonOption)
      .addStringOption(scopeOption)
      .addStringOption((o) =>
        o
          .setName('for')
          .setDescription('Temporary: how long it holds, then the value it replaced returns (30m, 2h, 1d)')
          .setMaxLength(10),
      )
      .addStringOption((o) =>
        o
          .setName('at')
          .setDescription(
            'Later: when to apply it (2026-12-01 18:00, tomorrow 18:00, in 2h; SCHEDULE_TIMEZONE)',
          )
          .setMaxLength(60),
      ),
  )
  .addSubcommand((s) =>
    s
      .setName('list')
      .setDescription('List settings, by category')
      .addStringOption((o) =>
        o
          .setName('category')
          .setDescription('Only this category')
          .addChoices(...CATEGORIES.map((c) => ({ name: c, value: c }))),
      ),
  )
  .addSubcommand((s) =>
    s
      .setName('history')
      .setDescription('Show the versions of a setting, newest first')
      .addStringOption(settingOption)
      .addIntegerOption((o) =>
        o.setName('limit').setDescription('How many versions (default 10)').setMinValue(1).setMaxValue(25),
      )
      .addStringOption(scopeOption),
  )
  .addSubcommand((s) =>
    s
      .setName('rollback')
      .setDescription('Restore the value of an earlier version (as a new version)')
      .addStringOption(settingOption)
      .addIntegerOption((o) =>
        o
          .setName('version')
          .setDescription('Version to restore')
          .setRequired(true)
          .setMinValue(1)
          .setAutocomplete(true),
      )
      .addStringOption(reasonOption)
      .addStringOption(scopeOption),
  )
  .addSubcommand((s) =>
    s
      .setName('reset')
      .setDescription('Set a setting back to its default, or remove an override (as a new version)')
      .addStringOption(settingOption)
      .addStringOption(reasonOption)
      .addStringOption(scopeOption),
  )
  .addSubcommand((s) =>
    s.setName('status').setDescription('Jobs, cache, database and sync state of this bot process'),
  )
  .addSubcommand((s) =>
    s.setName('pending').setDescription('Scheduled changes and temporary values waiting to end, with Cancel'),
  )
  .addSubcommandGroup((g) =>
    g
      .setName('token')
      .setDescription('Tokens for the HTTP API (admins)')
      .addSubcommand((s) =>
        s
          .setName('create')
          .setDescription('Create an API token; it is shown once')
          .addStringOption((o) =>
            o
              .setName('name')
              .setDescription('What to call it: 2-32 lower-case letters, digits, - or _')
              .setRequired(true)
              .setMaxLength(32),
          )
          .addStringOption((o) =>
            o
              .setName('access')
              .setDescription('read: view values; write: also change them')
              .setRequired(true)
              .addChoices({ name: 'read', value: 'read' }, { name: 'write', value: 'write' }),
          )
          .addBooleanOption((o) =>
            o.setName('sensitive').setDescription('May read sensitive values in clear (default: masked)'),
          )
          .addStringOption((o) =>
            o
              .setName('scope')
              .setDescription('Only this scope: env:<name> or guild:<server id> (default: every scope)')
              .setMaxLength(40)
              .setAutocomplete(true),
          ),
      )
      .addSubcommand((s) => s.setName('list').setDescription('Active API tokens: access, scope, last use'))
      .addSubcommand((s) =>
        s
          .setName('revoke')
          .setDescription('Revoke an API token: it is refused from then on')
          .addStringOption((o) =>
            o
              .setName('name')
              .setDescription('The token')
              .setRequired(true)
              .setMaxLength(32)
              .setAutocomplete(true),
          ),
      ),
  );

/**
 * What each subcommand needs, enforced by the dispatcher before the handler runs (see
 * src/discord/preconditions.ts). Reads of memory answer at once; anything that reads or writes
 * the database is acknowledged first; writes count against the user's attempt limit.
 */
export const requires = {
  view: { access: 'read', audit: 'view', selfService: true },
  list: { access: 'read', audit: 'list' },
  status: { access: 'read', audit: 'status' },
  pending: { access: 'read', audit: 'view', defer: true },
  history: { access: 'read', audit: 'history', defer: true, selfService: true },
  set: { access: 'write', audit: 'set', defer: true, rateLimited: true, selfService: true },
  rollback: { access: 'write', audit: 'rollback', defer: true, rateLimited: true, selfService: true },
  reset: { access: 'write', audit: 'reset', defer: true, rateLimited: true, selfService: true },
  // Tokens reach the whole configuration over HTTP: admins only, listing included.
  'token create': {
    access: 'write',
    audit: 'token-create',
    defer: true,
    rateLimited: true,
    attempt: tokenAttempt,
  },
  'token list': { access: 'write', audit: 'token-list', defer: true, attempt: tokenAttempt },
  'token revoke': {
    access: 'write',
    audit: 'token-revoke',
    defer: true,
    rateLimited: true,
    attempt: tokenAttempt,
  },
} as const satisfies Requirements;

/** The same for each kind of button: `config:<kind>:...`. */
export const buttonRequires = {
  list: { access: 'read', audit: 'list' },
  h: {
    access: 'read',
    audit: 'history',
    defer: true,
    selfService: true,
    attempt: (i) => ({ key: customIdPart(i, 2) || '*', scope: historyScope(i) }),
  },
  // Whoever pressed must be allowed to make the change now, whatever they could when it was asked.
  confirm: { access: 'write', audit: 'set', attempt: pendingAttempt, selfService: true },
  cancel: { access: 'write', audit: 'set', attempt: pendingAttempt, selfService: true },
  // Cancel of a pending change (/config pending): `config:unsched:<id>`.
  unsched: { access: 'write', audit: 'cancel', defer: true },
} as const satisfies Requirements;

/** The change a Confirm or Cancel stands for; null once it expired or was used (nothing to authorise). */
function pendingAttempt(i: Invocation, ctx: CommandContext) {
  const pending = ctx.confirmations.peek(customIdPart(i, 2));
  return pending ? { key: pending.key, action: pending.action, scope: pending.scope } : null;
}

/** The scope of a history button (`config:h:<KEY>:<scope code>:...`; older ids have none: global). */
function historyScope(i: Invocation): string {
  return i.isButton() && i.customId.split(':').length === 6 ? scopeFromCode(customIdPart(i, 3)) : 'global';
}

const subcommands = {
  view,
  set,
  list,
  history,
  rollback,
  reset,
  status,
  pending,
  'token create': tokenCreate,
  'token list': tokenList,
  'token revoke': tokenRevoke,
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = subcommandOf(interaction);
  if (!Object.hasOwn(subcommands, name)) throw new Error(`Unknown subcommand ${name}`);
  await subcommands[name as keyof typeof subcommands](interaction, ctx);
}

export async function autocomplete(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  if (interaction.options.getSubcommandGroup(false) === 'token') return tokenAutocomplete(interaction, ctx);
  return settingAutocomplete(interaction, ctx);
}

/**
 * `config:list:<category>:<page>`, `config:h:<key>:<scope>:<dir><version>:<limit>`,
 * `config:confirm:<id>`, `config:cancel:<id>`, `config:unsched:<id>`.
 */
export async function button(interaction: ButtonInteraction, ctx: CommandContext): Promise<void> {
  const [, kind, a = '', b = '', ...rest] = interaction.customId.split(':');
  if (kind === 'list') return listButton(interaction, ctx, a, Number(b) || 0);
  if (kind === 'h') return historyButton(interaction, ctx, [a, b, ...rest]);
  if (kind === 'confirm' || kind === 'cancel')
    return confirmationButton(interaction, ctx, kind === 'confirm', a);
  if (kind === 'unsched') return cancelPendingButton(interaction, ctx, a);
  throw new Error(`Unknown button ${interaction.customId}`);
}
