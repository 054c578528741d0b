import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApplicationCommandOptionType } from 'discord.js';
import type { Command } from './types.js';

/**
 * Subcommand names of a command ('' when it has none), as Discord will send them; a subcommand
 * of a group is `group subcommand` (`token create`), so it never shares a name with a top-level one.
 */
export function subcommandsOf(command: Pick<Command, 'data'>): string[] {
  const options = command.data.toJSON().options ?? [];
  const names: string[] = [];
  for (const o of options) {
    if (o.type === ApplicationCommandOptionType.Subcommand) names.push(o.name);
    else if (o.type === ApplicationCommandOptionType.SubcommandGroup)
      for (const s of o.options ?? []) names.push(`${o.name} ${s.name}`);
  }
  return names.length ? names : [''];
}

/**
 * What is wrong between a command's subcommands and its declared requirements (a subcommand
 * without one, or a declaration for a subcommand that does not exist), or undefined.
 */
export function requirementGaps(command: Pick<Command, 'data' | 'requires'>): string | undefined {
  const subs = subcommandsOf(command);
  const missing = subs.filter((s) => !Object.hasOwn(command.requires, s));
  const unknown = Object.keys(command.requires).filter((s) => !subs.includes(s));
  const label = (s: string) => `/${command.data.name}${s ? ` ${s}` : ''}`;
  if (missing.length) return `no access requirement declared for ${missing.map(label).join(', ')}`;
  if (unknown.length)
    return `requirements declared for subcommands that do not exist: ${unknown.map(label).join(', ')}`;
  return undefined;
}

/** commands/ at the project root, next to src/. */
export const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

/**
 * Discovers every command module (one per file) and checks its shape, so a broken file fails at
 * start with its name rather than at the first interaction. Used by the bot, the console and
 * scripts/deploy-commands alike.
 */
export async function loadCommands(dir = COMMANDS_DIR): Promise<Map<string, Command>> {
  const files = (await readdir(dir)).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Partial<Command>;
    if (
      !mod.data ||
      typeof mod.data.toJSON !== 'function' ||
      typeof mod.execute !== 'function' ||
      !mod.requires
    ) {
      throw new Error(`${file} must export data (a SlashCommandBuilder), requires and execute()`);
    }
    const command: Command = {
      data: mod.data,
      requires: mod.requires,
      execute: mod.execute,
      ...(mod.autocomplete ? { autocomplete: mod.autocomplete } : {}),
      ...(mod.button ? { button: mod.button, buttonRequires: mod.buttonRequires ?? {} } : {}),
      ...(mod.modal ? { modal: mod.modal, modalRequires: mod.modalRequires ?? {} } : {}),
    };
    const undeclared = requirementGaps(command);
    if (undeclared) throw new Error(`${file}: ${undeclared}`);
    if (commands.has(command.data.name))
      throw new Error(`${file}: a command named ${command.data.name} already exists`);
    commands.set(command.data.name, command);
  }
  return commands;
}
