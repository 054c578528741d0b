import { fileURLToPath } from 'node:url';
import { SlashCommandBuilder, SlashCommandSubcommandBuilder, type ButtonInteraction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { defineCommand, group, loadCommands, subcommandsOf } from '../../src/discord/loader.js';
import type { Buttons, Subcommand } from '../../src/discord/types.js';
import * as configCommand from '../../commands/config/index.js';

const fixtures = (name: string) => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url));

/** A subcommand file's exports, made in the test. */
function sub(name: string, extra: Partial<Subcommand> = {}): Subcommand {
  return {
    data: new SlashCommandSubcommandBuilder().setName(name).setDescription(`the ${name} subcommand`),
    requires: { access: 'read', audit: 'view' },
    async execute() {},
    ...extra,
  };
}

const head = () => new SlashCommandBuilder().setName('probe').setDescription('A probe');
const press = { requires: { access: 'read', audit: 'view' }, async run() {} } as const;

describe('a command assembled from its subcommand files', () => {
  it('adds each file as Discord shows it, in order, a member of a group named with its group', () => {
    const command = defineCommand({
      data: head(),
      subcommands: {
        open: sub('open'),
        token: group('Tokens', { create: sub('create') }),
        close: sub('close'),
      },
    });
    expect(subcommandsOf(command)).toEqual(['open', 'token create', 'close']);
    expect(Object.keys(command.requires)).toEqual(['open', 'token create', 'close']);
  });

  it('routes a button to the handler its kind names, under the requirement declared with it', async () => {
    const ran: string[][] = [];
    const buttons: Buttons = {
      go: {
        requires: { access: 'write', audit: 'set' },
        run: async (_i, _c, args) => void ran.push([...args]),
      },
    };
    const command = defineCommand({ data: head(), subcommands: { open: sub('open', { buttons }) } });
    expect(command.buttonRequires).toEqual({ go: buttons.go?.requires });
    await command.button?.({ customId: 'probe:go:a:b' } as ButtonInteraction, {} as never);
    expect(ran).toEqual([['a', 'b']]);
  });

  it('refuses a button kind declared twice, a file named otherwise than its data, and autocomplete that does not match the options', () => {
    expect(() =>
      defineCommand({
        data: head(),
        subcommands: {
          open: sub('open', { buttons: { go: press } }),
          close: sub('close', { buttons: { go: press } }),
        },
      }),
    ).toThrow('/probe: button go is declared twice');
    expect(() => defineCommand({ data: head(), subcommands: { open: sub('close') } })).toThrow(
      '/probe open: its data is named close',
    );
    const asking = sub('open', {
      data: new SlashCommandSubcommandBuilder()
        .setName('open')
        .setDescription('asks')
        .addStringOption((o) => o.setName('q').setDescription('typed').setAutocomplete(true)),
    });
    expect(() => defineCommand({ data: head(), subcommands: { open: asking } })).toThrow(
      '/probe open has options with autocomplete but declares no autocomplete',
    );
    expect(() =>
      defineCommand({ data: head(), subcommands: { open: sub('open', { autocomplete: async () => {} }) } }),
    ).toThrow('/probe open declares autocomplete but none of its options has it');
  });
});

describe('the loader', () => {
  it('refuses a subcommand file its command leaves out, naming it', async () => {
    await expect(loadCommands(fixtures('stray'))).rejects.toThrow(
      'probe/forgotten.ts: not a subcommand of /probe (add it in probe/index.ts)',
    );
  });

  it('refuses a command folder whose index routes by hand instead of assembling its files', async () => {
    await expect(loadCommands(fixtures('by-hand'))).rejects.toThrow(
      'must export what defineCommand assembled from the subcommand files',
    );
  });

  it('refuses a command with subcommands written as one file', async () => {
    await expect(loadCommands(fixtures('flat'))).rejects.toThrow(
      'a command with subcommands is a folder, one file per subcommand',
    );
  });

  it('loads /config and /flag from their folders, the same objects the command modules export', async () => {
    const commands = await loadCommands();
    expect([...commands.keys()]).toEqual(['config', 'flag']);
    expect(commands.get('config')?.requires).toBe(configCommand.requires);
    expect(commands.get('config')?.buttonRequires).toMatchObject({
      confirm: { access: 'write' },
      cancel: { access: 'write' },
      h: { access: 'read' },
      'rq-approve': { access: 'write' },
    });
  });
});
