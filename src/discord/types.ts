import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  ModalSubmitInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandSubcommandBuilder,
} from 'discord.js';
import type { PanelLogins } from '../tokens/panel-logins.js';
import type { WriteRateLimiter } from './rate-limit.js';
import type { ConfigService } from '../config/service.js';
import type { ChangeFeed } from '../changes/feed.js';
import type { InstanceStore } from '../changes/instances.js';
import type { ConfigSync } from '../changes/sync.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { AuditAction } from '../storage/config-models.js';
import type { AccessLevel, AccessPolicy } from './access.js';
import type { Confirmations } from './confirmations.js';
import type { TokenStore } from '../tokens/tokens.js';
import type { FlagStore } from '../flags/flags.js';
import type { Suggestions } from './suggestions.js';

/**
 * What the commands read of the process they run in (/config status, which processes applied a
 * change, the impact of one on jobs); the runtime src/app starts is one.
 */
export interface ProcessInfo {
  instanceId: string;
  startedAt: Date;
  database: string;
  scheduler?: Scheduler;
  sync?: ConfigSync;
  /** Which processes follow the configuration and what each applied. */
  instances?: InstanceStore;
  /** This process's place in the change log. */
  feed?: ChangeFeed;
}

/** What every command handler receives; passed explicitly rather than through a global container. */
export interface CommandContext {
  config: ConfigService;
  access: AccessPolicy;
  /** Per-user write limits (changes and attempts), shared by every process through the database. */
  limits: WriteRateLimiter;
  /** Changes shown with Confirm and Cancel, waiting for one of them (confirm.ts). */
  confirmations: Confirmations;
  /** API tokens (/config token). */
  tokens: TokenStore;
  /** Feature flags (/flag): held in memory, the one write path for them. */
  flags: FlagStore;
  /** Autocomplete lists read from the database, kept so choices never wait on it (suggestions.ts). */
  suggestions: Suggestions;
  /** FLAG_STALE_DAYS: a release flag fully on or off and unchanged this long is stale in /flag list. */
  flagStaleDays: number;
  /** This process: jobs, sync, instance (for /config status). */
  runtime?: ProcessInfo;
  /** The web panel's login links and address, when this process can make links (/config panel). */
  panel?: { logins: PanelLogins; url: string };
  /** APPROVAL_CHANNEL_ID: where change requests are posted (named in the "Approval needed" reply). */
  approvalChannelId?: string;
}

/**
 * A top-level slash command as the dispatcher runs it: assembled by the loader from its folder
 * under commands/ (one file per subcommand), or one file for a command without subcommands.
 * Buttons whose custom id starts with `${data.name}:<kind>:` are routed to `button`, submitted
 * modals with such an id to `modal`, each after the requirement its kind declares.
 */
export interface Command {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  /**
   * What each subcommand needs (access, acknowledgement, rate limit), by name; '' for a command
   * without subcommands. The loader refuses a command with an undeclared subcommand.
   */
  requires: Requirements;
  /** The same for each kind of button (the second part of its custom id). */
  buttonRequires?: Requirements;
  /** The same for each kind of modal (the second part of its custom id). */
  modalRequires?: Requirements;
  execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void>;
  button?(interaction: ButtonInteraction, ctx: CommandContext): Promise<void>;
  modal?(interaction: ModalSubmitInteraction, ctx: CommandContext): Promise<void>;
}

export type Invocation = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/** A yes or no that may depend on the interaction (a set that opens an editor is not deferred). */
export type Condition = boolean | ((interaction: Invocation) => boolean);

/**
 * What one subcommand (or one kind of button or modal) needs before its handler runs, declared in
 * its subcommand's file and enforced by the dispatcher alone, so no handler can forget a check (as
 * Sapphire's preconditions). In order: access, then the acknowledgement, then the rate limit
 * (which reads the database, so it comes after the acknowledgement Discord wants within 3 s).
 * A handler that is not deferred answers from memory, giving any database read at most
 * FIRST_RESPONSE_READ_MS (budget.ts); so does its rate limit.
 */
export interface Requirement {
  /** `read`: a member of an allowed server; `write`: also Administrator or an admin role. */
  access: AccessLevel;
  /** What a refusal is audited as. */
  audit: AuditAction;
  /**
   * Acknowledge at once, because the handler talks to the database: an ephemeral deferReply for
   * a command or a modal, a deferUpdate for a button. The handler then answers with editReply.
   * Not for an interaction the handler answers with a modal, which must be the first response.
   */
  defer?: Condition;
  /**
   * For a button: acknowledge with a private reply (deferReply) instead of deferUpdate, because the
   * message it is on is shared (a change request's post) and the answer is for the presser alone.
   */
  privateAnswer?: boolean;
  /** Count an attempt against the user's write limits (WRITE_ATTEMPTS_PER_MIN). */
  rateLimited?: Condition;
  /**
   * What the attempt concerns, for the audit row of a refusal, when the interaction alone does
   * not say (a button). Default: the `setting` option of a command, else `*`, and `audit`.
   * `null`: there is nothing left to change (an expired confirmation); only read access is checked.
   */
  attempt?: (
    interaction: Invocation,
    ctx: CommandContext,
  ) => { key: string; action?: AuditAction; scope?: string } | null;
  /**
   * May also be run by an Administrator of a server outside ALLOWED_GUILD_IDS, for a key declared
   * `guildSelfService`, at that server's own scope only (audited, reads included). `any`: for
   * something not about one key (the panel's login link), allowed when any key is self-service.
   */
  selfService?: boolean | 'any';
}

/** Requirements by subcommand name (or button or modal kind). */
export type Requirements = Readonly<Record<string, Requirement>>;

/**
 * A button or a modal: what it requires and what runs, declared under its kind (the second part
 * of its custom id, `config:<kind>:<args...>`) next to the subcommand that shows it.
 */
export interface Component<I extends ButtonInteraction | ModalSubmitInteraction> {
  requires: Requirement;
  /** `args`: the parts of the custom id after the kind. */
  run(interaction: I, ctx: CommandContext, args: readonly string[]): Promise<void>;
}

export type Buttons = Readonly<Record<string, Component<ButtonInteraction>>>;
export type Modals = Readonly<Record<string, Component<ModalSubmitInteraction>>>;

/**
 * One subcommand: a file under commands/<command>/ (commands/<command>/<group>/ for a member of
 * a group), named as the subcommand. Everything about it is declared there: its options as
 * Discord sees them, what it requires, what it runs, and the buttons and modals it shows.
 */
export interface Subcommand {
  data: SlashCommandSubcommandBuilder;
  requires: Requirement;
  execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void>;
  /** Choices for its options that have autocomplete (and only when it has such options). */
  autocomplete?(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void>;
  buttons?: Buttons;
  modals?: Modals;
}
