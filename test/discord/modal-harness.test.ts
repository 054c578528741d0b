import {
  ComponentType,
  DiscordAPIError,
  Routes,
  SlashCommandBuilder,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { describe, expect, it } from 'vitest';
import { ConsoleInputError, ConsoleSession } from '../../src/offline/console-session.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import type { Command } from '../../src/discord/types.js';
import { APP_ID, as, useBot } from '../helpers/discord.js';

const f = useBot('modal_harness');

const form = (over: Partial<APIModalInteractionResponseCallbackData> = {}, input: object = {}) =>
  ({
    custom_id: 'probe:form',
    title: 'A form',
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: 'text',
            label: 'Text',
            style: TextInputStyle.Paragraph,
            required: true,
            max_length: 10,
            ...input,
          },
        ],
      },
    ],
    ...over,
  }) as APIModalInteractionResponseCallbackData;

/** `/probe` shows the modal the test gives; its submit is answered with what was typed. */
async function withProbe(modal: APIModalInteractionResponseCallbackData) {
  const raised: unknown[] = [];
  const submitted: string[] = [];
  const command: Command = {
    requires: { '': { access: 'read', audit: 'view' } },
    modalRequires: { form: { access: 'write', audit: 'set' } },
    data: new SlashCommandBuilder().setName('probe').setDescription('Shows a modal'),
    async execute(i: ChatInputCommandInteraction) {
      await i.showModal(modal).catch((err: unknown) => {
        raised.push(err);
        throw err;
      });
    },
    async modal(i) {
      submitted.push(i.fields.getTextInputValue('text'));
      await i.reply({ content: 'got it', flags: 64 });
    },
  };
  const discord = new OfflineDiscord(new Map([['probe', command]]), f.bot.ctx, APP_ID);
  return { discord, raised, submitted, session: new ConsoleSession(discord, as.admin()) };
}

describe('the offline Discord shows modals as strictly as Discord', () => {
  it('refuses a title over 45 characters with 400 Invalid Form Body', async () => {
    const { discord, raised, session } = await withProbe(form({ title: 'x'.repeat(46) }));
    await session.run('/probe');
    expect(raised[0]).toBeInstanceOf(DiscordAPIError);
    expect(raised[0]).toMatchObject({ status: 400, code: 50035 });
    expect(discord.violations[0]?.problems).toEqual([
      'data.title: Must be 45 or fewer in length (this is 46).',
    ]);
    expect(session.currentModal()).toBeUndefined();
    await discord.destroy();
  });

  it('refuses a prefilled value longer than max_length, and a label over 45', async () => {
    const { discord, session } = await withProbe(form({}, { value: 'x'.repeat(11), label: 'y'.repeat(46) }));
    await session.run('/probe');
    expect(discord.violations[0]?.problems).toEqual([
      'data.components[0].components[0].label: Must be 45 or fewer in length (this is 46).',
      'data.components[0].components[0].value: Must be 10 or fewer in length (this is 11).',
    ]);
    await discord.destroy();
  });

  it('refuses six rows, two inputs in a row, and a custom id over 100', async () => {
    const row = form().components[0];
    const { discord, session } = await withProbe(
      form({ custom_id: 'p'.repeat(101), components: Array.from({ length: 6 }, () => row) as never }),
    );
    await session.run('/probe');
    expect(discord.violations[0]?.problems).toEqual(
      expect.arrayContaining([
        'data.custom_id: Must be 100 or fewer in length (this is 101).',
        'data.components: Must be between 1 and 5 in length (this has 6).',
      ]),
    );
    await discord.destroy();
  });

  it('submits through the real client what the user typed, and refuses what Discord’s client would not send', async () => {
    const { discord, submitted, session } = await withProbe(form({}, { value: 'prefilled' }));
    const [opened] = await session.run('/probe');
    expect(opened?.kind).toBe('modal');
    await expect(session.submit({ text: 'x'.repeat(11) })).rejects.toThrow(ConsoleInputError);
    await expect(session.submit({ text: '' })).rejects.toThrow('this field is required');
    await expect(session.submit({ other: 'x' })).rejects.toThrow('The form has no field other');
    const [answer] = await session.submit({});
    expect(answer?.content).toBe('got it');
    expect(submitted).toEqual(['prefilled']);
    expect(discord.violations).toEqual([]);
    await discord.destroy();
  });

  it('refuses a modal in answer to a modal submit', async () => {
    const { discord, session } = await withProbe(form());
    const command = discord.commands.get('probe');
    if (!command) throw new Error('no probe');
    // discord.js has no showModal on a modal submit: the raw callback, as a bot could send it.
    command.modal = async (i) => {
      await i.client.rest
        .post(Routes.interactionCallback(i.id, i.token), { body: { type: 9, data: form() } })
        .catch(() => undefined);
    };
    await session.run('/probe');
    await session.submit({ text: 'hi' });
    expect(discord.violations[0]?.problems[0]).toMatch(/^type: a modal answers only a command/);
    await discord.destroy();
  });
});
