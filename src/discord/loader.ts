import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './types.js';

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
    if (!mod.data || typeof mod.data.toJSON !== 'function' || typeof mod.execute !== 'function') {
      throw new Error(`${file} must export data (a SlashCommandBuilder) and execute()`);
    }
    const command: Command = {
      data: mod.data,
      execute: mod.execute,
      ...(mod.autocomplete ? { autocomplete: mod.autocomplete } : {}),
      ...(mod.button ? { button: mod.button } : {}),
    };
    if (commands.has(command.data.name))
      throw new Error(`${file}: a command named ${command.data.name} already exists`);
    commands.set(command.data.name, command);
  }
  return commands;
}
