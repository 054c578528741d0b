import { SlashCommandBuilder } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import type { Command } from '../../src/discord/types.js';
import { APP_ID, as, useBot } from '../helpers/discord.js';

const f = useBot('discord_options');

describe('/config options are checked as Discord checks them', () => {
  it.each([
    [
      '/config history setting:MAX_BATCH_SIZE limit:1000',
      'limit: 1000 is more than 25, the most this option allows',
    ],
    [
      '/config history setting:MAX_BATCH_SIZE limit:0',
      'limit: 0 is less than 1, the least this option allows',
    ],
    ['/config history setting:MAX_BATCH_SIZE limit:2.5', 'limit: "2.5" is not a whole number'],
    ['/config list category:bogus', 'category: "bogus" is not one of export, ai, system'],
    [
      '/config rollback setting:MAX_BATCH_SIZE version:99999999999999999999',
      'version: 99999999999999999999 is out of range; Discord integers lie between -9007199254740992 and 9007199254740992',
    ],
    [
      '/config rollback setting:MAX_BATCH_SIZE version:0',
      'version: 0 is less than 1, the least this option allows',
    ],
    [
      `/config set setting:LOG_LEVEL value:info reason:"${'r'.repeat(501)}"`,
      'reason: 501 characters is more than 500',
    ],
    ['/config set setting:LOG_LEVEL value:""', 'value: cannot be empty'],
    ['/config view setting:LOG_LEVEL colour:red', 'Unknown option colour; /config view takes: setting'],
    ['/config status verbose:true', 'Unknown option verbose; /config status takes no options'],
    [
      '/config explode',
      '/config has no subcommand explode; it has: view, set, list, history, diff, rollback, reset, status, panel, pending, export, import, requests, request, token, audit, snapshot',
    ],
    ['/config', '/config needs a subcommand: view, set'],
    ['/config rollback setting:LOG_LEVEL', 'Missing required option: version'],
  ])('refuses %s before the bot sees it', async (line, message) => {
    const from = f.bot.discord.calls.length;
    await expect(f.bot.session().run(line)).rejects.toThrow(message);
    expect(f.bot.discord.calls.length).toBe(from);
  });

  it('sends values at the edges of what an option allows', async () => {
    const [, page] = await f.bot.session().run('/config history setting:MAX_BATCH_SIZE limit:25');
    expect(page?.embeds[0]?.title).toBe('History of MAX_BATCH_SIZE');
    const [, one] = await f.bot.session().run('/config history setting:MAX_BATCH_SIZE limit:1');
    expect(one?.embeds[0]?.title).toBe('History of MAX_BATCH_SIZE');
    const [list] = await f.bot.session().run('/config list category:system');
    expect(list?.embeds[0]?.title).toMatch(/system/i);
  });

  it('sends the option being typed for autocomplete as typed, unchecked, as Discord does', async () => {
    const choices = await f.bot
      .session()
      .complete('/config rollback setting:MAX_BATCH_SIZE version:99999999999999999999');
    expect(Array.isArray(choices)).toBe(true);
    const last = f.bot.discord.calls.at(-1);
    expect(last?.kind).toBe('autocomplete');
  });

  it('refuses autocomplete for an option Discord would not autocomplete', async () => {
    await expect(f.bot.session().complete('/config history setting:MAX_BATCH_SIZE limit:3')).rejects.toThrow(
      'limit of /config history has no autocomplete',
    );
  });
});

/** A command with every kind of option the console can send; it replies with what discord.js parsed. */
const probe: Command = {
  requires: { '': { access: 'read', audit: 'view' } },
  data: new SlashCommandBuilder()
    .setName('probe')
    .setDescription('Echoes its options')
    .addNumberOption((o) => o.setName('ratio').setDescription('n').setMinValue(0).setMaxValue(1))
    .addBooleanOption((o) => o.setName('flag').setDescription('b'))
    .addIntegerOption((o) =>
      o
        .setName('level')
        .setDescription('i')
        .addChoices({ name: 'low', value: 1 }, { name: 'high', value: 3 }),
    )
    .addStringOption((o) => o.setName('code').setDescription('s').setMinLength(3).setMaxLength(5))
    .addStringOption((o) => o.setName('note').setDescription('s')),
  async execute(i) {
    const o = i.options;
    const seen = {
      ratio: o.getNumber('ratio'),
      flag: o.getBoolean('flag'),
      level: o.getInteger('level'),
      code: o.getString('code'),
    };
    await i.reply({ content: JSON.stringify(seen) });
  },
};

async function runProbe(line: string) {
  const discord = new OfflineDiscord(new Map([['probe', probe]]), f.bot.ctx, APP_ID);
  try {
    const [reply] = await new ConsoleSession(discord, as.admin()).run(line);
    return JSON.parse(reply?.content ?? '{}') as Record<string, unknown>;
  } finally {
    await discord.destroy();
  }
}

describe('numbers, booleans, integer choices and string lengths', () => {
  it('reach the handler through discord.js as the types Discord sends', async () => {
    expect(await runProbe('/probe ratio:0.25 flag:TRUE level:3 code:abcd')).toEqual({
      ratio: 0.25,
      flag: true,
      level: 3,
      code: 'abcd',
    });
  });

  it.each([
    ['/probe ratio:1.5', 'ratio: 1.5 is more than 1, the most this option allows'],
    ['/probe ratio:-0.1', 'ratio: -0.1 is less than 0, the least this option allows'],
    ['/probe ratio:1e3', 'ratio: "1e3" is not a number'],
    ['/probe ratio:9007199254740993.5', 'ratio: 9007199254740993.5 is out of range; Discord numbers'],
    ['/probe flag:yes', 'flag: "yes" is not true or false'],
    ['/probe level:2', 'level: 2 is not one of 1, 3'],
    ['/probe code:ab', 'code: 2 characters is fewer than 3, the least this option allows'],
    ['/probe code:abcdef', 'code: 6 characters is more than 5, the most this option allows'],
    [`/probe note:"${'n'.repeat(6001)}"`, 'note: 6001 characters is more than 6000'],
    ['/probe extra', '/probe has no subcommands; "extra" is not an option (name:value)'],
  ])('refuses %s', async (line, message) => {
    await expect(runProbe(line)).rejects.toThrow(message);
  });

  it('counts string lengths in characters as Discord does: five emoji fit in five', async () => {
    expect((await runProbe('/probe code:😀😀😀😀😀')).code).toBe('😀😀😀😀😀');
  });
});
