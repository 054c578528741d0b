import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ApplicationCommandOptionType,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
  type SlashCommandBuilder,
} from 'discord.js';
import { subcommandOf } from './preconditions.js';
import type {
  Buttons,
  Command,
  CommandContext,
  Component,
  Modals,
  Requirement,
  Requirements,
  Subcommand,
} from './types.js';

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

// ---- assembling a command from its subcommand files ------------------------------------------

/** A subcommand group: its description and its subcommands (one file each), in Discord's order. */
export interface Group<S extends Record<string, Subcommand> = Record<string, Subcommand>> {
  description: string;
  subcommands: S;
}

export function group<const S extends Record<string, Subcommand>>(
  description: string,
  subcommands: S,
): Group<S> {
  return { description, subcommands };
}

type Entries = Record<string, Subcommand | Group>;

/** The names `requires` knows the subcommands by: `view`, and `token create` in a group. */
type Names<E extends Entries> = {
  [K in keyof E & string]: E[K] extends Group<infer S> ? `${K} ${keyof S & string}` : K;
}[keyof E & string];

export interface CommandSpec<E extends Entries> {
  /** The command itself: name, description, default permissions, contexts. */
  data: SlashCommandBuilder;
  /** Its subcommands and groups by name, in the order Discord shows them. */
  subcommands: E;
  /** Buttons of the command as a whole rather than of one subcommand (its Confirm and Cancel). */
  buttons?: Buttons;
}

const isGroup = (entry: Subcommand | Group): entry is Group => 'subcommands' in entry;

/** The routers defineCommand made: a folder's index.ts routes nothing by hand. */
const assembled = new WeakSet<object>();
const mark = <T extends object>(router: T): T => {
  assembled.add(router);
  return router;
};

/**
 * A command made of its subcommand files: its builder gets each one's options, and its tables
 * (requirements by subcommand, by button kind and by modal kind) and routing come from what each
 * file declares, so a handler runs only under a declared requirement. Throws, naming it, on a
 * file whose name and data disagree, a button or modal kind declared twice, or autocomplete
 * declared without options that use it (or the reverse).
 */
export function defineCommand<const E extends Entries>(
  spec: CommandSpec<E>,
): Omit<Command, 'requires'> & { requires: Readonly<Record<Names<E>, Requirement>> } {
  const name = spec.data.name;
  const subs = new Map<string, Subcommand>();
  const add = (key: string, sub: Subcommand) => {
    if (sub.data.name !== key.split(' ').at(-1))
      throw new Error(`/${name} ${key}: its data is named ${sub.data.name}`);
    checkAutocomplete(`/${name} ${key}`, sub);
    subs.set(key, sub);
  };
  for (const [key, entry] of Object.entries(spec.subcommands)) {
    if (!isGroup(entry)) {
      add(key, entry);
      spec.data.addSubcommand(entry.data);
      continue;
    }
    spec.data.addSubcommandGroup((g) => {
      g.setName(key).setDescription(entry.description);
      for (const [member, sub] of Object.entries(entry.subcommands)) {
        add(`${key} ${member}`, sub);
        g.addSubcommand(sub.data);
      }
      return g;
    });
  }
  const all = [...subs.values()];
  const requires = Object.fromEntries([...subs].map(([key, s]) => [key, s.requires]));
  return {
    data: spec.data,
    requires: requires as Record<Names<E>, Requirement>,
    execute: mark(async (interaction: ChatInputCommandInteraction, ctx: CommandContext) => {
      const sub = subs.get(subcommandOf(interaction));
      if (!sub) throw new Error(`Unknown subcommand /${name} ${subcommandOf(interaction)}`);
      await sub.execute(interaction, ctx);
    }),
    ...(all.some((s) => s.autocomplete)
      ? {
          autocomplete: mark(async (interaction: AutocompleteInteraction, ctx: CommandContext) => {
            await subs.get(subcommandOf(interaction))?.autocomplete?.(interaction, ctx);
          }),
        }
      : {}),
    ...components(
      merged(name, 'button', [spec.buttons, ...all.map((s) => s.buttons)]),
      merged(
        name,
        'modal',
        all.map((s) => s.modals),
      ),
    ),
  };
}

/** Autocomplete is declared exactly when an option of the subcommand has it. */
function checkAutocomplete(label: string, sub: Subcommand): void {
  const options = sub.data.toJSON().options ?? [];
  const asking = options.some((o) => 'autocomplete' in o && o.autocomplete);
  if (asking && !sub.autocomplete)
    throw new Error(`${label} has options with autocomplete but declares no autocomplete`);
  if (!asking && sub.autocomplete)
    throw new Error(`${label} declares autocomplete but none of its options has it`);
}

function merged<T extends Component<ButtonInteraction> | Component<ModalSubmitInteraction>>(
  command: string,
  what: string,
  tables: readonly (Readonly<Record<string, T>> | undefined)[],
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const table of tables)
    for (const [kind, component] of Object.entries(table ?? {})) {
      if (Object.hasOwn(out, kind)) throw new Error(`/${command}: ${what} ${kind} is declared twice`);
      out[kind] = component;
    }
  return out;
}

/**
 * The requirement tables and the routers of a command's buttons and modals, from the one table
 * of each: the kind in a custom id (`config:<kind>:<args...>`) names its handler. The dispatcher
 * checks the kind's requirement first and refuses an undeclared kind.
 */
function components(
  buttons: Buttons,
  modals: Modals,
): Pick<Command, 'button' | 'buttonRequires' | 'modal' | 'modalRequires'> {
  return {
    ...(Object.keys(buttons).length
      ? { button: router('button', buttons), buttonRequires: requirementsOf(buttons) }
      : {}),
    ...(Object.keys(modals).length
      ? { modal: router('modal', modals), modalRequires: requirementsOf(modals) }
      : {}),
  };
}

const requirementsOf = (table: Buttons | Modals): Requirements =>
  Object.fromEntries(Object.entries(table).map(([kind, c]) => [kind, c.requires]));

function router<I extends ButtonInteraction | ModalSubmitInteraction>(
  what: string,
  table: Readonly<Record<string, Component<I>>>,
): (interaction: I, ctx: CommandContext) => Promise<void> {
  return mark(async (interaction, ctx) => {
    const [, kind = '', ...args] = interaction.customId.split(':');
    const component = Object.hasOwn(table, kind) ? table[kind] : undefined;
    if (!component) throw new Error(`Unknown ${what} ${interaction.customId}`);
    await component.run(interaction, ctx, args);
  });
}

// ---- finding the commands ----------------------------------------------------------------------

/** commands/ at the project root, next to src/. */
export const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

const MODULE = /\.(ts|js|mjs)$/;
const isModule = (file: string) => MODULE.test(file) && !file.endsWith('.d.ts');

/**
 * Discovers every command and checks its shape, so a broken file fails at start with its name
 * rather than at the first interaction: a folder `commands/<command>/` whose index.ts assembles
 * its subcommand files (defineCommand), or one file for a command without subcommands. Used by
 * the bot, the console and scripts/deploy-commands alike.
 */
export async function loadCommands(dir = COMMANDS_DIR): Promise<Map<string, Command>> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const commands = new Map<string, Command>();
  for (const entry of entries) {
    const folder = entry.isDirectory();
    if (!folder && !isModule(entry.name)) continue;
    const where = path.join(dir, entry.name);
    const file = folder ? await indexOf(where) : where;
    const command = commandOf(
      (await import(pathToFileURL(file).href)) as CommandModule,
      path.relative(dir, file),
      folder,
    );
    const label = folder ? `${entry.name}/` : entry.name;
    const undeclared = requirementGaps(command);
    if (undeclared) throw new Error(`${label}: ${undeclared}`);
    if (folder) await checkFolder(where, label, command);
    else if (subcommandsOf(command)[0] !== '')
      throw new Error(
        `${label}: a command with subcommands is a folder, one file per subcommand (commands/<command>/<subcommand>.ts)`,
      );
    if (commands.has(command.data.name))
      throw new Error(`${label}: a command named ${command.data.name} already exists`);
    commands.set(command.data.name, command);
  }
  return commands;
}

async function indexOf(folder: string): Promise<string> {
  const index = (await readdir(folder)).find((f) => isModule(f) && f.replace(MODULE, '') === 'index');
  if (!index) throw new Error(`${path.basename(folder)}/ has no index.ts assembling its subcommands`);
  return path.join(folder, index);
}

/** What a command module exports: assembled by defineCommand (a folder), or written as one file. */
type CommandModule = Partial<Command> & { buttons?: Buttons; modals?: Modals };

function commandOf(mod: CommandModule, file: string, folder: boolean): Command {
  if (
    !mod.data ||
    typeof mod.data.toJSON !== 'function' ||
    typeof mod.execute !== 'function' ||
    !mod.requires
  )
    throw new Error(`${file} must export data (a SlashCommandBuilder), requires and execute()`);
  const command = {
    data: mod.data,
    requires: mod.requires,
    execute: mod.execute,
    ...(mod.autocomplete ? { autocomplete: mod.autocomplete } : {}),
  };
  if (folder) {
    const routers = [mod.execute, mod.autocomplete, mod.button, mod.modal].filter((f) => f !== undefined);
    if (routers.some((f) => !assembled.has(f)))
      throw new Error(`${file} must export what defineCommand assembled from the subcommand files`);
    return {
      ...command,
      ...(mod.button ? { button: mod.button, buttonRequires: mod.buttonRequires ?? {} } : {}),
      ...(mod.modal ? { modal: mod.modal, modalRequires: mod.modalRequires ?? {} } : {}),
    };
  }
  // One file: its buttons and modals are declared as tables too, never routed by hand.
  if (mod.button || mod.modal)
    throw new Error(`${file}: declare buttons and modals as tables (buttons = { kind: { requires, run } })`);
  return { ...command, ...components(mod.buttons ?? {}, mod.modals ?? {}) };
}

/**
 * Every file in a command's folder is one of its subcommands (`token/create.ts` is `token
 * create`), and every subcommand has its file: a file left out of index.ts would otherwise be
 * dead code its author believes is live.
 */
async function checkFolder(folder: string, label: string, command: Command): Promise<void> {
  const files = (await readdir(folder, { recursive: true }))
    .filter(isModule)
    .map((f) => f.replace(MODULE, '').split(path.sep).join(' '))
    .filter((f) => f !== 'index' && !f.endsWith(' index'));
  const subs = subcommandsOf(command);
  const stray = files.filter((f) => !subs.includes(f));
  const missing = subs.filter((s) => !files.includes(s));
  const file = (s: string) => `${label}${s.split(' ').join('/')}.ts`;
  if (stray.length)
    throw new Error(
      `${stray.map(file).join(', ')}: not a subcommand of /${command.data.name} (add it in ${label}index.ts)`,
    );
  if (missing.length)
    throw new Error(
      `/${command.data.name}: ${missing.map(file).join(', ')} missing (one file per subcommand)`,
    );
}
