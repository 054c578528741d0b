import {
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  type GuildMemberFlags,
  InteractionContextType,
  InteractionType,
  Locale,
  MessageType,
  type APIApplicationCommandAutocompleteInteraction,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { buildOptions } from './options.js';
import { Resolver } from './resolver.js';
import {
  ADMIN_PERMISSIONS,
  apiUser,
  ATTACHMENT_SIZE_LIMIT,
  snowflake,
  type CommandLine,
  type Simulated,
} from './simulated.js';

// The raw interaction payloads Discord sends, made from what a simulated user types.

/** What every interaction payload carries: ids, token, who and where. */
export function base(sim: Simulated) {
  const common = {
    id: snowflake(),
    application_id: sim.applicationId,
    token: `offline-${snowflake()}`,
    version: 1 as const,
    app_permissions: ADMIN_PERMISSIONS,
    locale: Locale.EnglishUS,
    entitlements: [],
    authorizing_integration_owners: {},
    attachment_size_limit: ATTACHMENT_SIZE_LIMIT,
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

function commandData(
  sim: Simulated,
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
  focused?: string,
) {
  const resolved = new Resolver(sim);
  const options = buildOptions(def, line, focused, resolved);
  return {
    id: snowflake(),
    name: def.name,
    type: ApplicationCommandType.ChatInput,
    options,
    ...(resolved.empty ? {} : { resolved: resolved.data }),
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
