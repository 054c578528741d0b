import {
  ButtonStyle,
  ComponentType,
  TextInputStyle,
  type APIMessage,
  type APIModalInteractionResponseCallbackData,
} from 'discord.js';
import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { modalSubmitPayload } from '../../src/offline/modal-payloads.js';
import { messageFrom } from '../../src/offline/payloads.js';
import { snowflake } from '../../src/offline/simulated.js';
import { APP_ID, as, useBot } from '../helpers/discord.js';

const f = useBot('discord_routing');

/** A message of the bot carrying one button with `customId`, as a forged or outdated message would. */
function messageWith(customId: string): APIMessage {
  return messageFrom(
    {
      content: 'a message',
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            { type: ComponentType.Button, custom_id: customId, label: 'Press', style: ButtonStyle.Primary },
          ],
        },
      ],
    },
    { id: snowflake(), channelId: '0', applicationId: APP_ID },
  );
}

/** The audit rows of one user, who does only what the test does. */
const rowsOf = async (userId: string) =>
  bindModels(f.db.conn).ConfigAudit.find({ 'actor.id': userId }).lean();

/** A member of the home server's admins of its own, so no other test's rows mix in. */
const admin = (id: string) => ({ ...as.admin(), user: { id, username: `admin_${id.slice(-2)}` } });

describe('buttons and modals are routed by the kind their custom id names, as declared', () => {
  it('refuses a button whose kind no subcommand declares: nothing runs, the press is audited as denied', async () => {
    const sim = admin('100000000000000041');
    const before = f.svc.cachedVersion('MAX_BATCH_SIZE');
    const [reply] = await f.bot.session(sim).pressOn(messageWith('config:purge:MAX_BATCH_SIZE'), 'Press');
    expect(reply?.embeds[0]?.title).toBe('Error');
    expect(reply?.embeds[0]?.description).toMatch(/^Something went wrong on our side/);
    expect(f.svc.cachedVersion('MAX_BATCH_SIZE')).toBe(before);
    expect(await rowsOf(sim.user.id)).toEqual([
      expect.objectContaining({
        status: 'denied',
        key: '*',
        error: 'button config:purge:MAX_BATCH_SIZE declares no access requirement',
      }),
    ]);
  });

  it('refuses a button of a command that does not exist, audited the same way', async () => {
    const sim = admin('100000000000000042');
    const [reply] = await f.bot.session(sim).pressOn(messageWith('nosuch:confirm:abc'), 'Press');
    expect(reply?.embeds[0]?.title).toBe('Error');
    expect(await rowsOf(sim.user.id)).toEqual([
      expect.objectContaining({ status: 'denied', error: 'No handler for button nosuch:confirm:abc' }),
    ]);
  });

  it('refuses a submitted form whose kind no subcommand declares, audited as denied', async () => {
    const sim = admin('100000000000000043');
    const form = {
      custom_id: 'config:forged:MAX_BATCH_SIZE',
      title: 'Forged',
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.TextInput,
              custom_id: 'value',
              label: 'Value',
              style: TextInputStyle.Short,
            },
          ],
        },
      ],
    } as APIModalInteractionResponseCallbackData;
    const calls = await f.bot.discord.dispatch(modalSubmitPayload(sim, form, { value: '1' }));
    expect(JSON.stringify(calls.at(-1)?.body)).toContain('Something went wrong on our side');
    expect(await rowsOf(sim.user.id)).toEqual([
      expect.objectContaining({
        status: 'denied',
        error: 'modal config:forged:MAX_BATCH_SIZE declares no access requirement',
      }),
    ]);
  });

  it('runs a declared kind under its own requirement: a member may page /config list, not cancel a pending change', async () => {
    const sim = { ...as.member(), user: { id: '100000000000000044', username: 'member_44' } };
    const [page] = await f.bot.session(sim).pressOn(messageWith('config:list:all:0'), 'Press');
    expect(page?.kind).toBe('update');
    const [refused] = await f.bot.session(sim).pressOn(messageWith('config:unsched:0123456789ab'), 'Press');
    expect(refused?.embeds[0]?.title).toBe('Not allowed');
    expect(await rowsOf(sim.user.id)).toEqual([
      expect.objectContaining({ status: 'denied', action: 'cancel' }),
    ]);
  });
});
