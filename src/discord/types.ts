import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { WriteRateLimiter } from '../config/rate-limit.js';
import type { ConfigService } from '../config/service.js';
import type { RuntimeInfo } from '../runtime.js';
import type { AccessPolicy } from './access.js';
import type { Confirmations } from './confirmations.js';

/** What every command handler receives; passed explicitly rather than through a global container. */
export interface CommandContext {
  config: ConfigService;
  access: AccessPolicy;
  /** Per-user write limits (changes and attempts), shared by every process through the database. */
  limits: WriteRateLimiter;
  confirmations: Confirmations;
  /** This process: jobs, sync, instance (for /config status). */
  runtime?: RuntimeInfo;
}

/**
 * A top-level slash command: one file under commands/. Buttons whose custom id starts with
 * `${data.name}:` are routed to `button`.
 */
export interface Command {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void>;
  button?(interaction: ButtonInteraction, ctx: CommandContext): Promise<void>;
}
