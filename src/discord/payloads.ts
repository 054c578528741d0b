import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  type GuildMemberFlags,
  type RoleFlags,
  InteractionContextType,
  InteractionType,
  Locale,
  MessageType,
  PermissionFlagsBits,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandIntegerOption,
  type APIApplicationCommandNumberOption,
  type APIApplicationCommandOption,
  type APIApplicationCommandStringOption,
  type APIAttachment,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionDataResolved,
  type APIInteractionDataResolvedGuildMember,
  type APIInteractionGuildMember,
  type APIRole,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIModalInteractionResponseCallbackData,
  type APIModalSubmissionComponent,
  type APIModalSubmitInteraction,
  type APIUser,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { discordLength, OPTION_LIMITS } from './limits.js';

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
  /**
   * Other members of the server, by user id, as user options resolve them (name and roles);
   * a user not listed resolves as a member without roles.
   */
  members?: Readonly<Record<string, { username?: string; roles?: readonly string[] }>>;
  /**
   * Files the user has picked for attachment options, by the name typed as the option's value
   * (`file:config.json`); see OfflineDiscord.uploads, which serves them as Discord's CDN would.
   */
  files?: Readonly<Record<string, APIAttachment>>;
}

export const ADMIN_PERMISSIONS = String(PermissionFlagsBits.Administrator | PermissionFlagsBits.SendMessages);
export const MEMBER_PERMISSIONS = String(PermissionFlagsBits.SendMessages | PermissionFlagsBits.ViewChannel);

/** A command line after parsing: `/config set setting:X value:Y` is {command, subcommand, options}. */
export interface CommandLine {
  command: string;
  /** The subcommand group, when the subcommand is in one (`token` of `/config token create`). */
  group?: string;
  subcommand?: string;
  options: Record<string, string>;
}

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** The largest file a user may attach to an interaction (what Discord sends as attachment_size_limit). */
export const ATTACHMENT_SIZE_LIMIT = 8_388_608;

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

/**
 * Turns typed option text into the options Discord would send, refusing what Discord's client
 * and API refuse according to the command's definition (the JSON deploy-commands registers):
 * unknown subcommands and options, missing required options, values outside `choices`,
 * `min_value`/`max_value`, `min_length`/`max_length` or Discord's own ranges. While an option is
 * being typed (`focused`, autocomplete) Discord sends its text as it is, unchecked.
 */
function buildOptions(
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
  focused?: string,
  resolved?: Resolver,
): APIApplicationCommandInteractionDataOption[] {
  const params = parametersOf(def, line);
  const where = ['/' + def.name, line.group, line.subcommand].filter(Boolean).join(' ');
  const out: APIApplicationCommandInteractionDataBasicOption[] = [];
  for (const [name, raw] of Object.entries(line.options)) {
    const p = params.find((o) => o.name === name);
    if (!p)
      throw new PayloadError(
        params.length
          ? `Unknown option ${name}; ${where} takes: ${params.map((o) => o.name).join(', ')}`
          : `Unknown option ${name}; ${where} takes no options`,
      );
    if (name === focused) out.push(focusedValue(p, raw, where));
    else out.push(optionValue(p, raw, resolved));
  }
  if (!focused) {
    const missing = params.filter((o) => 'required' in o && o.required && !(o.name in line.options));
    if (missing.length)
      throw new PayloadError(`Missing required option: ${missing.map((o) => o.name).join(', ')}`);
  }
  if (!line.subcommand) return out;
  const sub: APIApplicationCommandInteractionDataSubcommandOption = {
    type: ApplicationCommandOptionType.Subcommand,
    name: line.subcommand,
    options: out,
  };
  if (!line.group) return [sub];
  return [{ type: ApplicationCommandOptionType.SubcommandGroup, name: line.group, options: [sub] }];
}

/** The options of the subcommand the line names (or of the command, when it has none). */
export function parametersOf(
  def: RESTPostAPIChatInputApplicationCommandsJSONBody,
  line: CommandLine,
): readonly APIApplicationCommandOption[] {
  const all = def.options ?? [];
  const subs = all.filter(
    (o) =>
      o.type === ApplicationCommandOptionType.Subcommand ||
      o.type === ApplicationCommandOptionType.SubcommandGroup,
  );
  if (!subs.length) {
    if (line.subcommand)
      throw new PayloadError(
        `/${def.name} has no subcommands; "${line.group ?? line.subcommand}" is not an option (name:value)`,
      );
    return all;
  }
  const names = subs.map((s) => s.name).join(', ');
  if (!line.subcommand) throw new PayloadError(`/${def.name} needs a subcommand: ${names}`);
  const first = line.group ?? line.subcommand;
  const found = subs.find((s) => s.name === first);
  if (!found) throw new PayloadError(`/${def.name} has no subcommand ${first}; it has: ${names}`);
  if (found.type === ApplicationCommandOptionType.Subcommand) {
    if (line.group)
      throw new PayloadError(`/${def.name} ${first} is not a group; "${line.subcommand}" is not an option`);
    return found.options ?? [];
  }
  // A group: the next word names one of its subcommands.
  const inGroup = found.options ?? [];
  const listed = inGroup.map((s) => s.name).join(', ');
  if (!line.group) throw new PayloadError(`/${def.name} ${first} needs a subcommand: ${listed}`);
  const sub = inGroup.find((s) => s.name === line.subcommand);
  if (!sub)
    throw new PayloadError(`/${def.name} ${first} has no subcommand ${line.subcommand}; it has: ${listed}`);
  return sub.options ?? [];
}

/** The option being typed: Discord sends the text as it is, even for a number, without checks. */
function focusedValue(
  p: APIApplicationCommandOption,
  raw: string,
  where: string,
): APIApplicationCommandInteractionDataBasicOption {
  if (!('autocomplete' in p && p.autocomplete))
    throw new PayloadError(
      `${p.name} of ${where} has no autocomplete; Discord would not ask the bot for choices`,
    );
  return {
    type: p.type,
    name: p.name,
    value: raw,
    focused: true,
  } as APIApplicationCommandInteractionDataBasicOption;
}

function optionValue(
  p: APIApplicationCommandOption,
  raw: string,
  resolved?: Resolver,
): APIApplicationCommandInteractionDataBasicOption {
  switch (p.type) {
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Role: {
      const user = p.type === ApplicationCommandOptionType.User;
      // As typed in Discord's picker: a mention (<@id>, <@!id>, <@&id>) or the id itself.
      const id = (user ? /^(?:<@!?(\d{15,21})>|(\d{15,21}))$/ : /^(?:<@&(\d{15,21})>|(\d{15,21}))$/).exec(
        raw.trim(),
      );
      const value = id?.[1] ?? id?.[2];
      if (!value)
        throw new PayloadError(
          `${p.name}: "${raw}" is not a ${user ? 'user (<@id> or an id)' : 'role (<@&id> or an id)'}`,
        );
      if (user) resolved?.user(value);
      else resolved?.role(value);
      return { type: p.type, name: p.name, value };
    }
    case ApplicationCommandOptionType.Attachment: {
      if (!resolved) throw new PayloadError(`${p.name}: no file can be attached here`);
      return { type: p.type, name: p.name, value: resolved.attachment(p.name, raw) };
    }
    case ApplicationCommandOptionType.String:
      return { type: p.type, name: p.name, value: checkedString(p, raw) };
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number:
      return { type: p.type, name: p.name, value: checkedNumber(p, raw) };
    case ApplicationCommandOptionType.Boolean: {
      const v = raw.toLowerCase();
      if (v !== 'true' && v !== 'false') throw new PayloadError(`${p.name}: "${raw}" is not true or false`);
      return { type: p.type, name: p.name, value: v === 'true' };
    }
    default:
      throw new PayloadError(`Option type ${p.type} of ${p.name} is not supported by the console`);
  }
}

function checkedString(p: APIApplicationCommandStringOption, raw: string): string {
  const length = discordLength(raw);
  if (length === 0)
    throw new PayloadError(`${p.name}: cannot be empty (Discord sends no empty option; leave it out)`);
  const max = p.max_length ?? OPTION_LIMITS.stringLength;
  if (length > max)
    throw new PayloadError(
      `${p.name}: ${length} characters is more than ${max}, the most this option allows`,
    );
  if (p.min_length !== undefined && length < p.min_length)
    throw new PayloadError(
      `${p.name}: ${length} characters is fewer than ${p.min_length}, the least this option allows`,
    );
  if (p.choices?.length && !p.choices.some((c) => c.value === raw))
    throw new PayloadError(`${p.name}: "${raw}" is not one of ${p.choices.map((c) => c.value).join(', ')}`);
  return raw;
}

const WHOLE = /^-?\d+$/;
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

/** An integer or number option; messages repeat what was typed, never a rounded value. */
function checkedNumber(
  p: APIApplicationCommandIntegerOption | APIApplicationCommandNumberOption,
  raw: string,
): number {
  const integer = p.type === ApplicationCommandOptionType.Integer;
  if (!(integer ? WHOLE : DECIMAL).test(raw))
    throw new PayloadError(`${p.name}: "${raw}" is not ${integer ? 'a whole number' : 'a number'}`);
  // Compared as exact decimals first: past 2^53, Number() would round 99999999999999999999 to 1e20.
  if (outsideDiscordRange(raw))
    throw new PayloadError(
      `${p.name}: ${raw} is out of range; Discord ${integer ? 'integers' : 'numbers'} lie between -${OPTION_LIMITS.largest} and ${OPTION_LIMITS.largest}`,
    );
  const n = Number(raw);
  if (p.max_value !== undefined && n > p.max_value)
    throw new PayloadError(`${p.name}: ${raw} is more than ${p.max_value}, the most this option allows`);
  if (p.min_value !== undefined && n < p.min_value)
    throw new PayloadError(`${p.name}: ${raw} is less than ${p.min_value}, the least this option allows`);
  if (p.choices?.length && !p.choices.some((c) => c.value === n))
    throw new PayloadError(`${p.name}: ${raw} is not one of ${p.choices.map((c) => c.value).join(', ')}`);
  return n;
}

function outsideDiscordRange(raw: string): boolean {
  const whole = raw.replace(/\..*$/, '') || '0';
  const fraction = /\.\d*[1-9]/.test(raw);
  const magnitude = BigInt(whole.replace('-', '') || '0');
  const limit = BigInt(OPTION_LIMITS.largest);
  return magnitude > limit || (magnitude === limit && fraction);
}

/** The `resolved` part of a command's data: the users, members and roles its options name. */
class Resolver {
  readonly data: APIInteractionDataResolved = {};

  constructor(private readonly sim: Simulated) {}

  user(id: string): void {
    const self = id === this.sim.user.id;
    const known = self ? { username: this.sim.user.username, roles: this.sim.roles } : this.sim.members?.[id];
    const username = known?.username ?? `user-${id.slice(-6)}`;
    (this.data.users ??= {})[id] = apiUser({ id, username });
    if (this.sim.guildId === null) return;
    (this.data.members ??= {})[id] = {
      roles: [...(known?.roles ?? [])],
      premium_since: null,
      joined_at: new Date(0).toISOString(),
      permissions: self ? this.sim.permissions : MEMBER_PERMISSIONS,
      avatar: null,
      flags: 0 as GuildMemberFlags,
      communication_disabled_until: null,
      pending: false,
    } as APIInteractionDataResolvedGuildMember;
  }

  role(id: string): void {
    (this.data.roles ??= {})[id] = {
      id,
      name: `role-${id.slice(-6)}`,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      position: 1,
      permissions: '0',
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    } as APIRole;
  }

  /** A file the user picked: Discord uploads it first, and sends its id with the file in `attachments`. */
  attachment(option: string, name: string): string {
    const file = this.sim.files?.[name];
    if (!file || !Object.hasOwn(this.sim.files ?? {}, name)) {
      const known = Object.keys(this.sim.files ?? {});
      throw new PayloadError(
        `${option}: no file "${name}" was uploaded${known.length ? ` (uploaded: ${known.join(', ')})` : ''}`,
      );
    }
    if (file.size > ATTACHMENT_SIZE_LIMIT)
      throw new PayloadError(
        `${option}: ${file.size} bytes is more than Discord lets a user attach (${ATTACHMENT_SIZE_LIMIT})`,
      );
    (this.data.attachments ??= {})[file.id] = file;
    return file.id;
  }

  get empty(): boolean {
    return !this.data.users && !this.data.roles && !this.data.attachments;
  }
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

/** A text input of a modal the bot showed, as the user sees it. */
export interface ModalField {
  customId: string;
  label: string;
  value: string;
  required: boolean;
  minLength: number;
  maxLength: number;
}

interface TextInputJSON {
  type?: number;
  custom_id?: string;
  label?: string;
  value?: string;
  required?: boolean;
  min_length?: number;
  max_length?: number;
}

interface ModalRowJSON {
  type?: number;
  label?: string;
  component?: TextInputJSON;
  components?: TextInputJSON[];
}

/** The text inputs of a modal (in action rows or labels), in order. */
export function modalFields(modal: APIModalInteractionResponseCallbackData): ModalField[] {
  const rows = (modal.components ?? []) as ModalRowJSON[];
  return rows.flatMap((row) => {
    const input = row.type === ComponentType.Label ? row.component : row.components?.[0];
    if (!input || input.type !== ComponentType.TextInput || !input.custom_id) return [];
    return [
      {
        customId: input.custom_id,
        label: (row.type === ComponentType.Label ? row.label : input.label) ?? input.custom_id,
        value: input.value ?? '',
        required: input.required ?? true,
        minLength: input.min_length ?? 0,
        maxLength: input.max_length ?? 4000,
      },
    ];
  });
}

/**
 * What Discord sends when the user submits `modal` with `values` typed into its text inputs (by
 * custom id; an input not given keeps what it was prefilled with). Refuses what Discord's client
 * does not let a user submit: an unknown input, a required one left empty, a text shorter than
 * min_length or longer than max_length.
 */
export function modalSubmitPayload(
  sim: Simulated,
  modal: APIModalInteractionResponseCallbackData,
  values: Readonly<Record<string, string>>,
): APIModalSubmitInteraction {
  const fields = modalFields(modal);
  for (const id of Object.keys(values))
    if (!fields.some((f) => f.customId === id))
      throw new PayloadError(
        `The form has no field ${id}; it has: ${fields.map((f) => f.customId).join(', ') || 'none'}`,
      );
  const typed = new Map(fields.map((f) => [f.customId, values[f.customId] ?? f.value]));
  for (const f of fields) {
    const length = discordLength(typed.get(f.customId) ?? '');
    if (f.required && length === 0) throw new PayloadError(`${f.label}: this field is required`);
    if (length > f.maxLength)
      throw new PayloadError(
        `${f.label}: ${length} characters is more than ${f.maxLength}, the most it takes`,
      );
    if (length > 0 && length < f.minLength)
      throw new PayloadError(
        `${f.label}: ${length} characters is fewer than ${f.minLength}, the least it takes`,
      );
  }
  const components = ((modal.components ?? []) as ModalRowJSON[]).flatMap(
    (row): APIModalSubmissionComponent[] => {
      const input = row.type === ComponentType.Label ? row.component : row.components?.[0];
      if (!input?.custom_id) return [];
      const submitted = {
        type: ComponentType.TextInput as const,
        custom_id: input.custom_id,
        value: typed.get(input.custom_id) ?? '',
      };
      return row.type === ComponentType.Label
        ? [{ type: ComponentType.Label, component: submitted }]
        : [{ type: ComponentType.ActionRow, components: [submitted] }];
    },
  );
  return {
    ...base(sim),
    type: InteractionType.ModalSubmit,
    data: { custom_id: modal.custom_id, components },
  } as APIModalSubmitInteraction;
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
