import {
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandStringOption,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { CATEGORIES } from '../src/config/registry.js';
import { MAX_REASON_LENGTH, MAX_VALUE_LENGTH } from '../src/config/validate.js';
import { MAX_DESCRIPTION_LENGTH as MAX_SNAPSHOT_DESCRIPTION } from '../src/snapshots/snapshots.js';
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
import { diff } from '../src/discord/config/diff.js';
import { cancelPendingButton, pending } from '../src/discord/config/pending.js';
import {
  tokenAttempt,
  tokenAutocomplete,
  tokenCreate,
  tokenList,
  tokenRevoke,
} from '../src/discord/config/tokens.js';
import { confirmationButton, reset, rollback, set } from '../src/discord/config/write.js';
import { exportConfig } from '../src/discord/config/export.js';
import { importAttempt, importButton, importConfig } from '../src/discord/config/import.js';
import {
  snapshotAttempt,
  snapshotCreate,
  snapshotDiff,
  snapshotList,
  snapshotView,
} from '../src/discord/config/snapshot.js';
import { restoreAttempt, restoreButton, snapshotRestore } from '../src/discord/config/snapshot-restore.js';
import { customIdPart, subcommandOf } from '../src/discord/preconditions.js';
import type { CommandContext, Invocation, Requirements } from '../src/discord/types.js';
import { editorAttempt, submitEditor } from '../src/discord/config/modal-submit.js';
import {
  requestApprove,
  requestAttempt,
  requestAutocomplete,
  requestEdit,
  requestReject,
  requestsList,
  requestView,
  requestWithdraw,
} from '../src/discord/requests/commands.js';
import {
  approveButton,
  detailsButton,
  rejectButton,
  rejectReasonSubmitted,
} from '../src/discord/requests/buttons.js';
import { requestGroup, requestsSubcommand } from '../src/discord/requests/options.js';

const settingOption = (o: SlashCommandStringOption) =>
  o.setName('setting').setDescription('Setting name').setRequired(true).setAutocomplete(true);
const scopeOption = (o: SlashCommandStringOption) =>
  o
    .setName('scope')
    .setDescription('Where: global (default), env:<name> or guild:<server id>')
    .setMaxLength(40)
    .setAutocomplete(true);
const snapshotNameOption = (o: SlashCommandStringOption) =>
  o.setName('name').setDescription('The snapshot').setRequired(true).setMaxLength(64).setAutocomplete(true);
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
          .setDescription('New value; leave out to edit a JSON object or a text in a form')
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
      )
      .addBooleanOption((o) =>
        o
          .setName('dry-run')
          .setDescription('Only show what it would change (environments, jobs, approvals, way back)'),
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
      .setName('diff')
      .setDescription('What changed between two versions (default: the newest and the one before)')
      .addStringOption(settingOption)
      .addIntegerOption((o) =>
        o.setName('from').setDescription('The older version').setMinValue(1).setAutocomplete(true),
      )
      .addIntegerOption((o) =>
        o
          .setName('to')
          .setDescription('The newer version (default: the newest)')
          .setMinValue(1)
          .setAutocomplete(true),
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
  .addSubcommand((s) =>
    s
      .setName('export')
      .setDescription('Download every value in every scope as a JSON file (sensitive ones left out)')
      .addStringOption((o) =>
        o
          .setName('scope')
          .setDescription('Only this scope: global, env:<name> or guild:<server id>')
          .setMaxLength(40),
      )
      .addBooleanOption((o) =>
        o
          .setName('secrets')
          .setDescription('Include sensitive values, encrypted (admins; needs CONFIG_ENCRYPTION_KEYS)'),
      ),
  )
  .addSubcommand((s) =>
    s
      .setName('import')
      .setDescription('Apply an export file: shows what would change, then Confirm')
      .addAttachmentOption((o) =>
        o
          .setName('file')
          .setDescription('A file from /config export or npm run config:export')
          .setRequired(true),
      )
      .addBooleanOption((o) => o.setName('dry-run').setDescription('Only show what would change')),
  )
  .addSubcommand(requestsSubcommand)
  .addSubcommandGroup(requestGroup)
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
          )
          .addStringOption((o) =>
            o
              .setName('expires')
              .setDescription('Stops working after this long: 1h to 366d, e.g. 90d (default: until revoked)')
              .setMaxLength(12),
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
  )
  .addSubcommandGroup((g) =>
    g
      .setName('snapshot')
      .setDescription('Named snapshots of every value in every scope: compare, restore, apply as a template')
      .addSubcommand((s) =>
        s
          .setName('create')
          .setDescription('Record every value in every scope under a new name (never changed afterwards)')
          .addStringOption((o) =>
            o
              .setName('name')
              .setDescription('2-64 lower-case letters, digits and dashes, like before-migration')
              .setRequired(true)
              .setMaxLength(64),
          )
          .addStringOption((o) =>
            o.setName('description').setDescription('What it is for').setMaxLength(MAX_SNAPSHOT_DESCRIPTION),
          ),
      )
      .addSubcommand((s) => s.setName('list').setDescription('Snapshots, newest first'))
      .addSubcommand((s) =>
        s
          .setName('view')
          .setDescription('The values of a snapshot, by key and scope (sensitive ones masked)')
          .addStringOption(snapshotNameOption),
      )
      .addSubcommand((s) =>
        s
          .setName('diff')
          .setDescription('What differs between a snapshot and now, or another snapshot')
          .addStringOption(snapshotNameOption)
          .addStringOption((o) =>
            o
              .setName('against')
              .setDescription('now (default) or another snapshot')
              .setMaxLength(64)
              .setAutocomplete(true),
          ),
      )
      .addSubcommand((s) =>
        s
          .setName('restore')
          .setDescription('Write the values of a snapshot back (preview, then Confirm)')
          .addStringOption(snapshotNameOption)
          .addStringOption((o) =>
            o
              .setName('to')
              .setDescription("Template: write the snapshot's global values into this scope instead")
              .setMaxLength(40)
              .setAutocomplete(true),
          )
          .addStringOption(reasonOption),
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
  // The list of processes is read from the database.
  status: { access: 'read', audit: 'status', defer: true },
  pending: { access: 'read', audit: 'view', defer: true },
  history: { access: 'read', audit: 'history', defer: true, selfService: true },
  diff: { access: 'read', audit: 'history', defer: true, selfService: true },
  // Without a value it opens an editor, which must be the first response: no deferral then, and
  // the attempt is counted when the editor is submitted.
  set: { access: 'write', audit: 'set', defer: typedValue, rateLimited: typedValue, selfService: true },
  rollback: { access: 'write', audit: 'rollback', defer: true, rateLimited: true, selfService: true },
  reset: { access: 'write', audit: 'reset', defer: true, rateLimited: true, selfService: true },
  // secrets:true also needs write access, checked by the handler (one subcommand, one requirement).
  export: { access: 'read', audit: 'export', defer: true },
  import: { access: 'write', audit: 'import', defer: true, rateLimited: true },
  // Change requests: anyone with read access follows them; each step is a write of its own.
  requests: { access: 'read', audit: 'list', defer: true },
  'request view': { access: 'read', audit: 'view', defer: true, attempt: requestAttempt('view') },
  'request approve': {
    access: 'write',
    audit: 'request-approve',
    defer: true,
    rateLimited: true,
    attempt: requestAttempt('request-approve'),
  },
  'request reject': {
    access: 'write',
    audit: 'request-reject',
    defer: true,
    rateLimited: true,
    attempt: requestAttempt('request-reject'),
  },
  'request withdraw': {
    access: 'write',
    audit: 'request-withdraw',
    defer: true,
    rateLimited: true,
    attempt: requestAttempt('request-withdraw'),
  },
  'request edit': {
    access: 'write',
    audit: 'request-edit',
    defer: true,
    rateLimited: true,
    attempt: requestAttempt('request-edit'),
  },
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
  'snapshot create': {
    access: 'write',
    audit: 'snapshot-create',
    defer: true,
    rateLimited: true,
    attempt: snapshotAttempt,
  },
  'snapshot list': { access: 'read', audit: 'list', defer: true, attempt: snapshotAttempt },
  'snapshot view': { access: 'read', audit: 'view', defer: true, attempt: snapshotAttempt },
  'snapshot diff': { access: 'read', audit: 'view', defer: true, attempt: snapshotAttempt },
  'snapshot restore': {
    access: 'write',
    audit: 'snapshot-restore',
    defer: true,
    rateLimited: true,
    attempt: snapshotAttempt,
  },
} as const satisfies Requirements;

/** Whether a set has its value typed (else it opens the editor). */
function typedValue(i: Invocation): boolean {
  return !i.isChatInputCommand() || i.options.getString('value') !== null;
}

/** The same for each kind of modal: `config:edit:<KEY>:<scope>:<version>` (the editor of set). */
export const modalRequires = {
  edit: {
    access: 'write',
    audit: 'set',
    defer: true,
    rateLimited: true,
    selfService: true,
    attempt: editorAttempt,
  },
  // The reason of a rejection, from the Reject button of a change request: `config:rq-reason:<id>`.
  'rq-reason': {
    access: 'write',
    audit: 'request-reject',
    defer: true,
    rateLimited: true,
    attempt: requestAttempt('request-reject'),
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
  // Confirm or Cancel of an import: `config:import:<id>:yes|no`.
  import: { access: 'write', audit: 'import', attempt: importAttempt },
  // Confirm and Cancel of a previewed snapshot restore: `config:snapok:<id>`, `config:snapno:<id>`.
  snapok: { access: 'write', audit: 'snapshot-restore', attempt: restoreAttempt },
  snapno: { access: 'write', audit: 'snapshot-restore', attempt: restoreAttempt },
  // The buttons of a change request's post: `config:rq-approve|rq-reject|rq-details:<id>`. The
  // post is shared, so each answers privately; Reject opens a form (the first response), and the
  // attempt is counted when it is submitted.
  'rq-approve': {
    access: 'write',
    audit: 'request-approve',
    defer: true,
    privateAnswer: true,
    rateLimited: true,
    attempt: requestAttempt('request-approve'),
  },
  'rq-reject': { access: 'write', audit: 'request-reject', attempt: requestAttempt('request-reject') },
  'rq-details': {
    access: 'read',
    audit: 'view',
    defer: true,
    privateAnswer: true,
    attempt: requestAttempt('view'),
  },
} as const satisfies Requirements;

/** The change a Confirm or Cancel stands for; null once it expired or was used (nothing to authorise). */
function pendingAttempt(i: Invocation, ctx: CommandContext) {
  const pending = ctx.confirmations.peekFor(customIdPart(i, 2));
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
  diff,
  rollback,
  reset,
  status,
  pending,
  export: exportConfig,
  import: importConfig,
  'token create': tokenCreate,
  'token list': tokenList,
  'token revoke': tokenRevoke,
  'snapshot create': snapshotCreate,
  'snapshot list': snapshotList,
  'snapshot view': snapshotView,
  'snapshot diff': snapshotDiff,
  'snapshot restore': snapshotRestore,
  requests: requestsList,
  'request view': requestView,
  'request approve': requestApprove,
  'request reject': requestReject,
  'request withdraw': requestWithdraw,
  'request edit': requestEdit,
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = subcommandOf(interaction);
  if (!Object.hasOwn(subcommands, name)) throw new Error(`Unknown subcommand ${name}`);
  await subcommands[name as keyof typeof subcommands](interaction, ctx);
}

export async function autocomplete(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  if (interaction.options.getSubcommandGroup(false) === 'token') return tokenAutocomplete(interaction, ctx);
  if (interaction.options.getSubcommandGroup(false) === 'request')
    return requestAutocomplete(interaction, ctx);
  return settingAutocomplete(interaction, ctx);
}

/** A submitted modal: the editor of set (`config:edit:...`). */
export async function modal(interaction: ModalSubmitInteraction, ctx: CommandContext): Promise<void> {
  if (interaction.customId.startsWith('config:edit:')) return submitEditor(interaction, ctx);
  if (interaction.customId.startsWith('config:rq-reason:'))
    return rejectReasonSubmitted(interaction, ctx, customIdPart(interaction, 2));
  throw new Error(`Unknown modal ${interaction.customId}`);
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
  if (kind === 'import') return importButton(interaction, ctx, a, b);
  if (kind === 'snapok' || kind === 'snapno') return restoreButton(interaction, ctx, kind === 'snapok', a);
  if (kind === 'rq-approve') return approveButton(interaction, ctx, a);
  if (kind === 'rq-reject') return rejectButton(interaction, ctx, a);
  if (kind === 'rq-details') return detailsButton(interaction, ctx, a);
  throw new Error(`Unknown button ${interaction.customId}`);
}
