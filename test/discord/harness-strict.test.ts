import {
  DiscordAPIError,
  InteractionResponseType,
  Routes,
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type InteractionReplyOptions,
} from 'discord.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { OfflineDiscord, type HarnessOptions } from '../../src/offline/harness.js';
import type { Command } from '../../src/discord/types.js';
import { APP_ID, as, useBot } from '../helpers/discord.js';

const f = useBot('harness_strict');

/**
 * A real discord.js Client behind the offline Discord, with one command `/probe` whose handler
 * sends what the test gives it; the errors its REST calls raise are kept for the test.
 */
async function probe(
  send: (i: ChatInputCommandInteraction) => Promise<unknown>,
  choices?: number,
  options?: HarnessOptions,
) {
  const raised: unknown[] = [];
  const command: Command = {
    requires: { '': { access: 'read', audit: 'view' } },
    data: new SlashCommandBuilder()
      .setName('probe')
      .setDescription('Sends what the test asks')
      .addStringOption((o) => o.setName('q').setDescription('typed').setAutocomplete(true)),
    async execute(i) {
      try {
        await send(i);
      } catch (err) {
        raised.push(err);
        throw err;
      }
    },
    async autocomplete(i: AutocompleteInteraction) {
      const list = Array.from({ length: choices ?? 0 }, (_, n) => ({ name: `c${n}`, value: `c${n}` }));
      await i.respond(list).catch((err: unknown) => {
        raised.push(err);
        throw err;
      });
    },
  };
  const discord = new OfflineDiscord(new Map([['probe', command]]), f.bot.ctx, APP_ID, options);
  const session = new ConsoleSession(discord, as.admin());
  try {
    const replies = choices === undefined ? await session.run('/probe') : [];
    const offered = choices === undefined ? [] : await session.complete('/probe q:x');
    return { discord, raised, replies, offered };
  } finally {
    await discord.destroy();
  }
}

const reply = (options: InteractionReplyOptions) => (i: ChatInputCommandInteraction) => i.reply(options);

describe('the offline Discord refuses what Discord refuses', () => {
  it('answers a field over 1024 characters with 400 Invalid Form Body, raised in the bot as a DiscordAPIError', async () => {
    const { discord, raised, replies } = await probe(
      reply({ embeds: [{ title: 'Big', fields: [{ name: 'v', value: 'x'.repeat(1025) }] }] }),
    );
    const err = raised[0];
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ status: 400, code: 50035 });
    expect((err as DiscordAPIError).rawError).toMatchObject({
      message: 'Invalid Form Body',
      errors: {
        data: {
          embeds: { 0: { fields: { 0: { value: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } } },
        },
      },
    });
    expect(discord.violations).toEqual([
      expect.objectContaining({
        code: 50035,
        problems: ['data.embeds[0].fields[0].value: Must be 1024 or fewer in length (this is 1025).'],
      }),
    ]);
    // Nothing was shown; the bot's own error path then answered, as it would in production.
    expect(replies).toHaveLength(1);
    expect(replies[0]?.embeds[0]?.title).toBe('Error');
  });

  it('answers an empty message with 50006 "Cannot send an empty message"', async () => {
    const { discord, raised } = await probe(reply({ content: '   ' }));
    expect(raised[0]).toMatchObject({ status: 400, code: 50006, message: 'Cannot send an empty message' });
    expect(discord.violations.map((v) => v.code)).toEqual([50006]);
  });

  it('answers an edit that would leave a deferred reply empty with 50006', async () => {
    const { raised } = await probe(async (i) => {
      await i.deferReply();
      await i.editReply({ content: '' });
    });
    expect(raised[0]).toMatchObject({ status: 400, code: 50006 });
  });

  it('answers a second initial response to one interaction with 40060', async () => {
    const { discord, raised } = await probe(async (i) => {
      await i.reply({ content: 'first' });
      // As a second process answering the same interaction would: discord.js's own guard is per Client.
      await i.client.rest.post(Routes.interactionCallback(i.id, i.token), {
        body: { type: InteractionResponseType.ChannelMessageWithSource, data: { content: 'second' } },
        auth: false,
      });
    });
    expect(raised[0]).toMatchObject({
      status: 400,
      code: 40060,
      message: 'Interaction has already been acknowledged.',
    });
    expect(discord.violations.map((v) => v.code)).toEqual([40060]);
  });

  it("answers a first response past Discord's window with 404 Unknown interaction, as Discord does", async () => {
    // A window of 50 ms stands for Discord's 3 s, so the test need not wait 3 s.
    const { discord, raised, replies } = await probe(
      async (i) => {
        await sleep(100);
        await i.deferReply();
      },
      undefined,
      { firstResponseWindowMs: 50 },
    );
    expect(raised[0]).toMatchObject({ status: 404, code: 10062, message: 'Unknown interaction' });
    expect(discord.violations[0]).toMatchObject({
      status: 404,
      code: 10062,
      problems: [
        expect.stringMatching(/^first response \d+ ms after the interaction arrived; Discord waits 50 ms$/),
      ],
    });
    // The token is dead: the error path's own reply is refused too, and nothing is shown.
    expect(discord.violations.map((v) => v.code)).toEqual([10062, 10062]);
    expect(replies).toEqual([]);
    expect(discord.unanswered()).toEqual([]);
  });

  it('records when each first response was sent, counted from the arrival of its interaction', async () => {
    const { discord, replies } = await probe(reply({ content: 'at once' }));
    expect(replies.map((r) => r.kind)).toEqual(['reply']);
    const first = discord.calls.find((c) => c.kind === 'reply');
    expect(first?.afterMs).toBeGreaterThanOrEqual(0);
    expect(discord.unanswered()).toEqual([]);
  });

  it('answers more than 25 autocomplete choices with 400, and shows none', async () => {
    const { discord, raised, offered } = await probe(async () => undefined, 26);
    expect(raised[0]).toMatchObject({ status: 400, code: 50035 });
    expect(discord.violations[0]?.problems).toEqual([
      'data.choices: Must be 25 or fewer in length (this has 26).',
    ]);
    expect(offered).toEqual([]);
  });

  it('accepts a reply at the limits and records no violation', async () => {
    const { discord, replies } = await probe(
      reply({
        content: 'c'.repeat(2000),
        embeds: [{ description: 'd'.repeat(4096), fields: [{ name: 'n', value: 'v'.repeat(1024) }] }],
      }),
    );
    expect(replies.map((r) => r.kind)).toEqual(['reply']);
    expect(discord.violations).toEqual([]);
  });
});

describe("the bot's own replies", () => {
  it('stay within every Discord limit for every /config subcommand, button and autocomplete', async () => {
    const discord = f.bot.discord;
    const s = f.bot.session();
    await s.run('/config view setting:MAX_BATCH_SIZE');
    await s.run('/config set setting:MAX_BATCH_SIZE value:150 reason:"within limits"');
    await s.run('/config set setting:MAX_BATCH_SIZE value:abc');
    await s.run('/config list');
    await s.run('/config history setting:MAX_BATCH_SIZE limit:25');
    await s.run('/config rollback setting:MAX_BATCH_SIZE version:1');
    await s.press('Confirm');
    await s.run('/config set setting:LOG_LEVEL value:debug');
    await s.run('/config reset setting:LOG_LEVEL');
    await s.press('Cancel');
    await s.run('/config status');
    await s.complete('/config view setting:');
    await s.complete('/config rollback setting:MAX_BATCH_SIZE version:');
    await f.bot.session(as.member()).run('/config set setting:MAX_BATCH_SIZE value:1');
    expect(discord.violations).toEqual([]);
    expect(discord.calls.length).toBeGreaterThan(15);
  });
});
