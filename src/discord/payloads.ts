import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  type GuildMemberFlags,
  InteractionContextType,
  InteractionType,
  Locale,
  MessageType,
  PermissionFlagsBits,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandOption,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIUser,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';

/** Who is typing, and where: a simulated guild member, or a user in a DM. */
export interface Simulated {
  applicationId: string;
  /** null: a direct message. */
  guildId: string | null;
  channelId: string;
  user: { id: string; username: string };
  /** Permission bits of the member in that channel (a decimal string, as Discord sends them). */
  permissions: string;
  roles: string[];
}

export const ADMIN_PERMISSIONS = String(PermissionFlagsBits.Administrator | PermissionFlagsBits.SendMessages);
export const MEMBER_PERMISSIONS = String(PermissionFlagsBits.SendMessages | PermissionFlagsBits.ViewChannel);

/** A command line after parsing: `/config set setting:X value:Y` is {command, subcommand, options}. */
export interface CommandLine {
  command: string;
  subcommand?: string;
  options: Record<string, string>;
}

export class PayloadError extends Error {
  override name = 'PayloadError';
}

let counter = 0n;
/** Snowflake-shaped ids: a timestamp part and a counter, increasing like Discord's. */
export function snowflake(): string {
  counter += 1n;
  return String(((BigInt(Date.now()) - 1420070400000n) << 22n) | (counter & 0x3fffffn));
}

function apiUser(u: Simulated['user']): APIUser {
  return { id: u.id, username: u.username, discriminator: '0', global_name: u.username, avatar: null };
}

function base(sim: Simulated) {
  const common = {
    id: snowflake(),
    application_id: sim.applicationId,
    token: `offline-${snowflake()}`,
    version: 1 as const,
    app_permissions: ADMIN_PERMISSIONS,
    locale: Locale.EnglishUS,
    entitlements: [],
    authorizing_integration_owners: {},
    attachment_size_limit: 8_388_608,
    channel_id: sim.channelId,
  };
  if (sim.guildId === null) {
    return {
      ...common,
      channel: { id: sim.channelId, type: ChannelType.DM as const },
      user: apiUser(sim.user),
      context: InteractionContextType.BotDM,
    };
  }
  const member: APIInteractionGuildMember = {
    user: apiUser(sim.user),
    roles: sim.roles,
    permissions: sim.permissions,
    joined_at: new Date(0).toISOString(),
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
  };
  return {
    ...common,
    guild_id: sim.guildId,
    guild_locale: Locale.EnglishUS,
    guild: { id: sim.guildId, locale: Locale.EnglishUS, features: [] },
    channel: { id: sim.channelId, type: ChannelType.GuildText as const, name: 'config' },
    member,
    context: InteractionContextType.Guild,
  };
}

/** Turns typed option text into the option values Discord would send, using the command's definition. */
function buildOptions(
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
  focused?: string,
):
  APIApplicationCommandInteractionDataSubcommandOption[] | APIApplicationCommandInteractionDataBasicOption[] {
  const subs = (def.options ?? []).filter((o) => o.type === ApplicationCommandOptionType.Subcommand);
  let params: readonly APIApplicationCommandOption[] = def.options ?? [];
  if (subs.length) {
    const sub = subs.find((s) => s.name === line.subcommand);
    if (!sub)
      throw new PayloadError(`/${def.name} needs a subcommand: ${subs.map((s) => s.name).join(', ')}`);
    params = sub.options ?? [];
  }
  const out: APIApplicationCommandInteractionDataBasicOption[] = [];
  for (const [name, raw] of Object.entries(line.options)) {
    const p = params.find((o) => o.name === name);
    if (!p)
      throw new PayloadError(
        `Unknown option ${name}; /${def.name} ${line.subcommand ?? ''} takes: ${params.map((o) => o.name).join(', ')}`,
      );
    const isFocused = name === focused;
    out.push(optionValue(p, raw, isFocused));
  }
  if (!focused) {
    const missing = params.filter((o) => 'required' in o && o.required && !(o.name in line.options));
    if (missing.length)
      throw new PayloadError(`Missing required option: ${missing.map((o) => o.name).join(', ')}`);
  }
  if (!subs.length) return out;
  return [{ type: ApplicationCommandOptionType.Subcommand, name: line.subcommand ?? '', options: out }];
}

function optionValue(
  p: APIApplicationCommandOption,
  raw: string,
  focused: boolean,
): APIApplicationCommandInteractionDataBasicOption {
  const f = focused ? { focused: true } : {};
  switch (p.type) {
    case ApplicationCommandOptionType.String:
      return { type: p.type, name: p.name, value: raw, ...f };
    case ApplicationCommandOptionType.Integer: {
      // While typing (autocomplete) Discord sends the partial text as it is.
      if (focused) return { type: p.type, name: p.name, value: raw as unknown as number, focused: true };
      if (!/^-?\d+$/.test(raw)) throw new PayloadError(`${p.name} must be a whole number; got "${raw}"`);
      return { type: p.type, name: p.name, value: Number(raw) };
    }
    case ApplicationCommandOptionType.Number: {
      const n = Number(raw);
      if (!focused && !Number.isFinite(n)) throw new PayloadError(`${p.name} must be a number; got "${raw}"`);
      return { type: p.type, name: p.name, value: focused ? (raw as unknown as number) : n, ...f };
    }
    case ApplicationCommandOptionType.Boolean:
      if (!['true', 'false'].includes(raw)) throw new PayloadError(`${p.name} must be true or false`);
      return { type: p.type, name: p.name, value: raw === 'true' };
    default:
      throw new PayloadError(`Option type ${p.type} of ${p.name} is not supported by the console`);
  }
}

function commandData(
  sim: Simulated,
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
  focused?: string,
) {
  return {
    id: snowflake(),
    name: def.name,
    type: ApplicationCommandType.ChatInput,
    options: buildOptions(def, line, focused),
    ...(sim.guildId ? { guild_id: sim.guildId } : {}),
  };
}

export function chatInputPayload(
  sim: Simulated,
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
): APIChatInputApplicationCommandInteraction {
  return {
    ...base(sim),
    type: InteractionType.ApplicationCommand,
    data: commandData(sim, def, line),
  } as APIChatInputApplicationCommandInteraction;
}

/** The payload Discord sends while `focused` is being typed. */
export function autocompletePayload(
  sim: Simulated,
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
  focused: string,
): APIApplicationCommandAutocompleteInteraction {
  return {
    ...base(sim),
    type: InteractionType.ApplicationCommandAutocomplete,
    data: commandData(sim, def, line, focused),
  } as APIApplicationCommandAutocompleteInteraction;
}

export function buttonPayload(
  sim: Simulated,
  message: APIMessage,
  customId: string,
): APIMessageComponentButtonInteraction {
  return {
    ...base(sim),
    type: InteractionType.MessageComponent,
    message,
    data: { custom_id: customId, component_type: ComponentType.Button },
  } as APIMessageComponentButtonInteraction;
}

/** The message object Discord returns for a bot message built from a reply body. */
export function messageFrom(
  body: Partial<APIMessage>,
  ids: { id: string; channelId: string; applicationId: string; interactionId?: string },
): APIMessage {
  return {
    id: ids.id,
    channel_id: ids.channelId,
    author: {
      id: ids.applicationId,
      username: 'config-bot',
      discriminator: '0',
      global_name: 'config-bot',
      avatar: null,
      bot: true,
    },
    content: body.content ?? '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: body.embeds ?? [],
    components: body.components ?? [],
    pinned: false,
    type: MessageType.ChatInputCommand,
    ...(body.flags !== undefined ? { flags: body.flags } : {}),
    application_id: ids.applicationId,
  };
}
