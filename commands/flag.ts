import {
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type SlashCommandStringOption,
  type SlashCommandSubcommandBuilder,
} from 'discord.js';
import { MAX_REASON_LENGTH } from '../src/config/validate.js';
import { FLAG_IMPACTS, FLAG_TYPES, OPERATORS, PAYLOAD_TYPES } from '../src/flags/model.js';
import { autocomplete as flagAutocomplete } from '../src/discord/flag/complete.js';
import { confirmationButton, pendingAttempt, rollback } from '../src/discord/flag/confirm.js';
import { evaluate } from '../src/discord/flag/evaluate.js';
import { flagAttempt } from '../src/discord/flag/options.js';
import { history, list, view } from '../src/discord/flag/read.js';
import { turnOnButton } from '../src/discord/flag/turn-on.js';
import {
  archive,
  condition,
  create,
  off,
  on,
  requireFlag,
  rollout,
  schedule,
  target,
} from '../src/discord/flag/write.js';
import { payload, stickiness, threshold, variants } from '../src/discord/flag/write-details.js';
import { subcommandOf } from '../src/discord/preconditions.js';
import type { CommandContext, Requirements } from '../src/discord/types.js';

const nameOption = (o: SlashCommandStringOption) =>
  o.setName('name').setDescription('The flag').setRequired(true).setMaxLength(64).setAutocomplete(true);
const reasonOption = (o: SlashCommandStringOption) =>
  o.setName('reason').setDescription('Why (kept in the history)').setMaxLength(MAX_REASON_LENGTH);
const envOption = (what: string) => (o: SlashCommandStringOption) =>
  o.setName('env').setDescription(what).setMaxLength(32).setAutocomplete(true);
const addOrRemove = (o: SlashCommandStringOption) =>
  o
    .setName('action')
    .setDescription('add (default) or remove')
    .addChoices({ name: 'add', value: 'add' }, { name: 'remove', value: 'remove' });
/** A subcommand acting on one flag: `name` first, `reason` last (required options come first). */
const onFlag = (s: SlashCommandSubcommandBuilder, name: string, description: string) =>
  s.setName(name).setDescription(description).addStringOption(nameOption);

export const data = new SlashCommandBuilder()
  .setName('flag')
  .setDescription('Feature flags: view, switch, target, roll out, explain')
  // Hidden from non-admins by default; server admins can widen it, so access is checked in code too.
  .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) =>
    s
      .setName('list')
      .setDescription('Flags (archived ones hidden), stale and never-evaluated ones marked, unknown names')
      .addStringOption((o) =>
        o
          .setName('type')
          .setDescription('Only this type')
          .addChoices(...FLAG_TYPES.map((t) => ({ name: t, value: t }))),
      )
      .addBooleanOption((o) => o.setName('stale').setDescription('Only stale flags (time to remove them)')),
  )
  .addSubcommand((s) => onFlag(s, 'view', 'Rules, version, last change and evaluations of the last 24 h'))
  .addSubcommand((s) =>
    s
      .setName('create')
      .setDescription('Create a flag (off, in no environment, until turned on)')
      .addStringOption((o) =>
        o
          .setName('name')
          .setDescription('lower-kebab-case: a letter, then letters, digits or dashes (new-checkout)')
          .setRequired(true)
          .setMaxLength(64),
      )
      .addStringOption((o) =>
        o.setName('description').setDescription('What it switches').setRequired(true).setMaxLength(500),
      )
      .addStringOption((o) =>
        o
          .setName('type')
          .setDescription('release, experiment, ops or permission')
          .setRequired(true)
          .addChoices(...FLAG_TYPES.map((t) => ({ name: t, value: t }))),
      )
      .addStringOption((o) =>
        o.setName('owner').setDescription('Team or person answering for it (default: you)').setMaxLength(100),
      )
      .addStringOption((o) =>
        o
          .setName('impact')
          .setDescription(
            'none, low (default), medium, high, critical: APPROVALS_REQUIRED applies to its changes',
          )
          .addChoices(...FLAG_IMPACTS.map((t) => ({ name: t, value: t }))),
      )
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'on', 'Turn on: the kill switch, or one environment')
      .addStringOption(envOption('Only add this environment (default: the kill switch)'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'off', 'Turn off: the kill switch, or one environment (production asks to confirm)')
      .addStringOption(envOption('Only remove this environment (default: the kill switch, everywhere)'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'rollout', 'Set the percentage of users it is on for')
      .addNumberOption((o) =>
        o
          .setName('percent')
          .setDescription('0 to 100, at most two decimals')
          .setRequired(true)
          .setMinValue(0)
          .setMaxValue(100),
      )
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'target', 'Include or exclude a user, role or server (or remove one)')
      .addStringOption((o) =>
        o
          .setName('list')
          .setDescription('include: always on for it; exclude: always off (wins)')
          .setRequired(true)
          .addChoices({ name: 'include', value: 'include' }, { name: 'exclude', value: 'exclude' }),
      )
      .addStringOption((o) =>
        o
          .setName('kind')
          .setDescription('What the id is')
          .setRequired(true)
          .addChoices(
            { name: 'user', value: 'user' },
            { name: 'role', value: 'role' },
            { name: 'server', value: 'guild' },
          ),
      )
      .addStringOption((o) =>
        o
          .setName('id')
          .setDescription('The Discord id (or a mention of the user or role)')
          .setRequired(true)
          .setMaxLength(30),
      )
      .addStringOption(addOrRemove)
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'condition', 'Add a condition (all must hold), or remove one, or clear them')
      .addStringOption((o) =>
        o
          .setName('attribute')
          .setDescription('Context attribute (plan, app.version, userId)')
          .setMaxLength(64),
      )
      .addStringOption((o) =>
        o
          .setName('operator')
          .setDescription('How to compare')
          .addChoices(...OPERATORS.map((op) => ({ name: op, value: op }))),
      )
      .addStringOption((o) =>
        o.setName('values').setDescription('Comma-separated values (pro, team)').setMaxLength(2000),
      )
      .addIntegerOption((o) =>
        o
          .setName('remove')
          .setDescription('Remove the condition with this number (see /flag view)')
          .setMinValue(1)
          .setMaxValue(50),
      )
      .addBooleanOption((o) => o.setName('clear').setDescription('Remove every condition'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'schedule', 'On only from start and/or until end (none removes one)')
      .addStringOption((o) =>
        o
          .setName('start')
          .setDescription('2026-12-01 10:00 (SCHEDULE_TIMEZONE), 2026-12-01T09:00:00Z, or none')
          .setMaxLength(60),
      )
      .addStringOption((o) =>
        o
          .setName('end')
          .setDescription('2027-01-01 00:00 (SCHEDULE_TIMEZONE), 2027-01-01T00:00:00Z, or none')
          .setMaxLength(60),
      )
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'variants', 'Set the variants and their weights (or clear them)')
      .addStringOption((o) =>
        o
          .setName('weights')
          .setDescription('Every variant as name:weight, thousandths adding up to 1000 (blue:500, green:500)')
          .setMaxLength(2000),
      )
      .addBooleanOption((o) => o.setName('clear').setDescription('Remove every variant'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'payload', 'Set or remove the payload of a variant')
      .addStringOption((o) =>
        o
          .setName('variant')
          .setDescription('The variant')
          .setRequired(true)
          .setMaxLength(64)
          .setAutocomplete(true),
      )
      .addStringOption((o) =>
        o
          .setName('type')
          .setDescription('What the value is')
          .addChoices(...PAYLOAD_TYPES.map((t) => ({ name: t, value: t }))),
      )
      .addStringOption((o) =>
        o.setName('value').setDescription('The payload (text, JSON, CSV or a number)').setMaxLength(6000),
      )
      .addBooleanOption((o) => o.setName('remove').setDescription('Remove the payload'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'stickiness', 'What the rollout and variants hash, and the group hashed with it')
      .addStringOption((o) =>
        o
          .setName('by')
          .setDescription('userId, guildId or an attribute name (tenant_id)')
          .setMaxLength(64)
          .setAutocomplete(true),
      )
      .addStringOption((o) =>
        o
          .setName('group')
          .setDescription("Flags sharing a group bucket users alike; none: the flag's name")
          .setMaxLength(100),
      )
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'threshold', 'Switch off automatically past this many errors in a window (or clear)')
      .addIntegerOption((o) =>
        o
          .setName('errors')
          .setDescription('Errors reported within the window that switch it off')
          .setMinValue(1)
          .setMaxValue(1_000_000),
      )
      .addStringOption((o) =>
        o.setName('window').setDescription('The window: 30s, 5m, 1h (1s to 24h)').setMaxLength(20),
      )
      .addBooleanOption((o) => o.setName('clear').setDescription('Never switch it off automatically'))
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'require', 'Require another flag to be on (or remove the requirement)')
      .addStringOption((o) =>
        o
          .setName('prerequisite')
          .setDescription('The flag that must be on')
          .setRequired(true)
          .setMaxLength(64)
          .setAutocomplete(true),
      )
      .addStringOption(addOrRemove)
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(s, 'evaluate', 'Explain whether it is on for a member, and which rule decides')
      .addUserOption((o) =>
        o.setName('member').setDescription('The member (their roles count)').setRequired(true),
      )
      .addStringOption((o) =>
        o
          .setName('attributes')
          .setDescription('Context attributes: key=value,key=value (plan=pro,app.version=2.1.0)')
          .setMaxLength(1000),
      )
      .addStringOption(envOption("Evaluate in this environment (default: this bot's)")),
  )
  .addSubcommand((s) =>
    onFlag(s, 'history', 'Versions, newest first, with what each changed').addIntegerOption((o) =>
      o.setName('limit').setDescription('How many versions (default 10)').setMinValue(1).setMaxValue(25),
    ),
  )
  .addSubcommand((s) =>
    onFlag(s, 'rollback', 'Restore an earlier version, as a new version (asks to confirm)')
      .addIntegerOption((o) =>
        o
          .setName('version')
          .setDescription('Version to restore')
          .setRequired(true)
          .setMinValue(1)
          .setAutocomplete(true),
      )
      .addStringOption(reasonOption),
  )
  .addSubcommand((s) =>
    onFlag(
      s,
      'archive',
      'Archive: off everywhere and out of /flag list (rollback restores it)',
    ).addStringOption(reasonOption),
  );

const read = { access: 'read', attempt: flagAttempt } as const;
const write = { access: 'write', defer: true, rateLimited: true, attempt: flagAttempt } as const;

/**
 * What each subcommand needs, enforced by the dispatcher before the handler runs (see
 * src/discord/preconditions.ts). A refusal is audited with the key `flag:<name>`.
 */
export const requires = {
  list: { ...read, audit: 'list', defer: true },
  view: { ...read, audit: 'view', defer: true },
  history: { ...read, audit: 'history', defer: true },
  evaluate: { ...read, audit: 'flag-evaluate' },
  create: { ...write, audit: 'create' },
  on: { ...write, audit: 'set' },
  off: { ...write, audit: 'set' },
  rollout: { ...write, audit: 'set' },
  target: { ...write, audit: 'set' },
  condition: { ...write, audit: 'set' },
  schedule: { ...write, audit: 'set' },
  require: { ...write, audit: 'set' },
  variants: { ...write, audit: 'set' },
  payload: { ...write, audit: 'set' },
  stickiness: { ...write, audit: 'set' },
  threshold: { ...write, audit: 'set' },
  rollback: { ...write, audit: 'rollback' },
  archive: { ...write, audit: 'archive' },
} as const satisfies Requirements;

/** The same for each kind of button: `flag:<kind>:...`. */
export const buttonRequires = {
  // Whoever pressed must be allowed to make the change now, whatever they could when it was asked.
  confirm: { access: 'write', audit: 'set', attempt: pendingAttempt },
  cancel: { access: 'write', audit: 'set', attempt: pendingAttempt },
  // The button of an automatic-kill alert. Not deferred here: a refusal must be a private reply,
  // not an edit of the alert everyone sees; the handler acknowledges it.
  'turn-on': { access: 'write', audit: 'flag-turn-on', rateLimited: true, attempt: flagAttempt },
} as const satisfies Requirements;

const subcommands = {
  list,
  view,
  create,
  on,
  off,
  rollout,
  target,
  condition,
  schedule,
  require: requireFlag,
  variants,
  payload,
  stickiness,
  threshold,
  evaluate,
  history,
  rollback,
  archive,
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = subcommandOf(interaction);
  if (!Object.hasOwn(subcommands, name)) throw new Error(`Unknown subcommand ${name}`);
  await subcommands[name as keyof typeof subcommands](interaction, ctx);
}

export async function autocomplete(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  return flagAutocomplete(interaction, ctx);
}

/** `flag:confirm:<id>`, `flag:cancel:<id>`, `flag:turn-on:<name>:<version>`. */
export async function button(interaction: ButtonInteraction, ctx: CommandContext): Promise<void> {
  const [, kind, a = '', b = ''] = interaction.customId.split(':');
  if (kind === 'confirm' || kind === 'cancel')
    return confirmationButton(interaction, ctx, kind === 'confirm', a);
  if (kind === 'turn-on' && /^\d+$/.test(b)) return turnOnButton(interaction, ctx, a, Number(b));
  throw new Error(`Unknown button ${interaction.customId}`);
}
