import {
  ApplicationCommandOptionType,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  type APIApplicationCommandIntegerOption,
  type APIApplicationCommandNumberOption,
  type APIApplicationCommandOption,
  type APIApplicationCommandStringOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { discordLength, OPTION_LIMITS } from '../discord/limits.js';
import type { Resolver } from './resolver.js';
import { PayloadError, type CommandLine } from './simulated.js';
/**
 * Turns typed option text into the options Discord would send, refusing what Discord's client
 * and API refuse according to the command's definition (the JSON deploy-commands registers):
 * unknown subcommands and options, missing required options, values outside `choices`,
 * `min_value`/`max_value`, `min_length`/`max_length` or Discord's own ranges. While an option is
 * being typed (`focused`, autocomplete) Discord sends its text as it is, unchecked.
 */
export function buildOptions(
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
