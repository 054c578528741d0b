import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonObject, text } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { modalFields, modalSubmitPayload } from '../../src/offline/modal-payloads.js';
import type { ReplyView } from '../../src/offline/console-session.js';
import { actor } from '../helpers/db.js';
import { as, displayed, startBot } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

const ROUTING_DEFAULT = { region: 'eu', weights: { a: 1 } };

/** The shipped keys plus a JSON object (global and env), a free text, and a secret text. */
function registryWithEditors() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.ROUTING = {
    ...jsonObject(z.object({ region: z.string(), weights: z.record(z.string(), z.number()) })),
    category: 'system',
    description: 'Where requests go',
    default: ROUTING_DEFAULT,
    sensitive: false,
    requiresRestart: false,
    scopes: ['global', 'env'],
    warnings: (v: { region: string }) => (v.region === 'mars' ? ['mars is far away'] : []),
  } as KeyDefinition;
  defs.NOTE = {
    ...text({ max: 1000 }),
    category: 'system',
    description: 'A note',
    default: 'hello',
    sensitive: false,
    requiresRestart: false,
  } as KeyDefinition;
  defs.SECRET_NOTE = {
    ...text({ max: 1000 }),
    category: 'system',
    description: 'A secret note',
    default: 'do not show',
    sensitive: true,
    requiresRestart: false,
  } as KeyDefinition;
  defs.GRID = {
    ...jsonObject(z.object({ cells: z.array(z.record(z.string(), z.unknown())) })),
    category: 'system',
    description: 'Deeply nested: several times longer pretty-printed',
    // 999 characters on one line, 4085 pretty-printed.
    default: { cells: Array.from({ length: 38 }, () => ({ a: { b: { c: { d: 0 } } } })) },
    sensitive: false,
    requiresRestart: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}

async function setup(label: string) {
  const { svc } = await freshService(label, { registry: registryWithEditors() });
  const bot = await startBot(svc);
  return { svc, bot, s: bot.session() };
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);
/** The text inputs of the modal a reply opened. */
const inputs = (view: ReplyView | undefined) => (view?.modal ? modalFields(view.modal) : []);

describe('/config set without a value opens an editor', () => {
  it('prefills the global JSON object, pretty-printed, with the version it opened at in its id', async () => {
    const { svc, bot, s } = await setup('modal_open_global');
    await svc.set('ROUTING', '{"region":"us","weights":{"a":2}}', actor());
    const [opened] = await s.run('/config set setting:ROUTING');
    expect(opened?.kind).toBe('modal');
    expect(opened?.modal?.title).toBe('Edit ROUTING');
    expect(opened?.modal?.custom_id).toBe('config:edit:ROUTING:g:2');
    expect(opened?.modal?.components[0]).toMatchObject({
      type: 1,
      components: [{ type: 4, custom_id: 'value', style: 2, max_length: 4000 }],
    });
    expect(inputs(opened)[0]?.value).toBe(pretty({ region: 'us', weights: { a: 2 } }));
    expect(bot.discord.violations).toEqual([]);
    await bot.close();
  });

  it('prefills what an env scope holds, not the global value', async () => {
    const { svc, bot, s } = await setup('modal_open_env');
    await svc.set(
      'ROUTING',
      '{"region":"ap","weights":{}}',
      actor(),
      undefined,
      {},
      { scope: 'env:production' },
    );
    const [opened] = await s.run('/config set setting:ROUTING scope:env:production reason:tuning');
    expect(opened?.modal?.custom_id).toBe('config:edit:ROUTING:eproduction:1');
    const [value, reason] = inputs(opened);
    expect(value?.value).toBe(pretty({ region: 'ap', weights: {} }));
    expect(reason).toMatchObject({ customId: 'reason', value: 'tuning', required: false });
    await bot.close();
  });

  it('writes a submitted edit as a new version and answers like a typed set, warnings included', async () => {
    const { svc, bot, s } = await setup('modal_submit');
    await s.run('/config set setting:ROUTING');
    const replies = await s.submit({ value: pretty({ region: 'mars', weights: { b: 3 } }), reason: 'move' });
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    const embed = replies[1]?.embeds[0];
    expect(displayed(embed?.title)).toBe('Updated ROUTING');
    expect(embed?.fields?.map((f) => f.name)).toEqual(['Old value', 'New value', 'Version', '⚠️ Warning']);
    expect(embed?.fields?.[2]?.value).toBe('1 → 2');
    expect(svc.get('ROUTING')).toEqual({ region: 'mars', weights: { b: 3 } });
    const [latest] = await svc.history('ROUTING', { limit: 1 });
    expect(latest).toMatchObject({ version: 2, reason: 'move', actor: { id: as.admin().user.id } });
    expect(bot.discord.violations).toEqual([]);
    await bot.close();
  });

  it('counts a JSON object on one line against the value length, not its indentation', async () => {
    const { svc, bot, s } = await setup('modal_compact');
    const weights = Object.fromEntries(Array.from({ length: 90 }, (_, n) => [`w${n}`, n]));
    const value = pretty({ region: 'eu', weights });
    expect(value.length).toBeGreaterThan(1000);
    await s.run('/config set setting:ROUTING');
    const [, done] = await s.submit({ value });
    expect(displayed(done?.embeds[0]?.title)).toBe('Updated ROUTING');
    expect(svc.get('ROUTING')).toEqual({ region: 'eu', weights });
    await bot.close();
  });

  it('refuses invalid JSON with the message a typed value gets, and writes nothing', async () => {
    const { svc, bot, s } = await setup('modal_invalid');
    const [, typed] = await s.run(`/config set setting:ROUTING value:'{"region": 1}'`);
    await s.run('/config set setting:ROUTING');
    const [, refused] = await s.submit({ value: '{"region": 1}' });
    expect(refused?.embeds[0]?.title).toBe('Not done');
    expect(refused?.embeds[0]?.description).toBe(typed?.embeds[0]?.description);
    expect(refused?.embeds[0]?.description).toMatch(/region/);
    await s.run('/config set setting:ROUTING');
    const [, broken] = await s.submit({ value: '{not json' });
    expect(displayed(broken?.embeds[0]?.description)).toMatch(/Not valid JSON/);
    expect(svc.cachedVersion('ROUTING')).toBe(1);
    await bot.close();
  });

  it('refuses a submit after the key moved, and keeps the newer value', async () => {
    const { svc, bot, s } = await setup('modal_moved');
    await s.run('/config set setting:ROUTING');
    await svc.set('ROUTING', '{"region":"us","weights":{}}', actor('222222222222222222', 'bob'));
    const [, refused] = await s.submit({ value: '{"region":"ap","weights":{}}' });
    expect(displayed(refused?.embeds[0]?.description)).toMatch(
      /^ROUTING changed since .*\(v1 → v2\); nothing was changed/,
    );
    expect(svc.get('ROUTING')).toEqual({ region: 'us', weights: {} });
    expect(svc.cachedVersion('ROUTING')).toBe(2);
    await bot.close();
  });

  it('gives a kind that is typed a clear error, without a modal', async () => {
    const { bot, s } = await setup('modal_typed_kind');
    const replies = await s.run('/config set setting:MAX_BATCH_SIZE');
    expect(replies.map((r) => r.kind)).toEqual(['reply']);
    expect(displayed(replies[0]?.embeds[0]?.description)).toBe(
      'value is required for MAX_BATCH_SIZE (integer 1-1000)',
    );
    await bot.close();
  });

  it('opens a free text as it is, and a secret empty', async () => {
    const { bot, s } = await setup('modal_text');
    const [note] = await s.run('/config set setting:NOTE');
    expect(inputs(note)[0]?.value).toBe('hello');
    const [secret] = await s.run('/config set setting:SECRET_NOTE');
    expect(inputs(secret)[0]).toMatchObject({ label: 'New value (the current one is secret)', value: '' });
    expect(JSON.stringify(bot.discord.calls)).not.toContain('do not show');
    await bot.close();
  });

  it('says so, and opens nothing, when the value is longer than a text box holds', async () => {
    const { bot, s } = await setup('modal_too_long');
    const replies = await s.run('/config set setting:GRID');
    expect(replies.map((r) => r.kind)).toEqual(['reply']);
    expect(displayed(replies[0]?.embeds[0]?.description)).toMatch(
      /^GRID holds \d+ characters, more than the 4000 a Discord text box takes; no editor was opened/,
    );
    await bot.close();
  });

  it('refuses a submit by a member who is not an admin, and writes nothing', async () => {
    const { svc, bot, s } = await setup('modal_member');
    const [opened] = await s.run('/config set setting:ROUTING');
    const modal = opened?.modal;
    if (!modal) throw new Error('no modal');
    const member = as.member();
    const calls = await bot.discord.dispatch(
      modalSubmitPayload(member, modal, { value: '{"region":"x","weights":{}}' }),
    );
    expect(calls.map((c) => c.kind)).toEqual(['reply']);
    expect(calls[0]?.body?.embeds).toMatchObject([{ title: 'Not allowed' }]);
    expect(svc.cachedVersion('ROUTING')).toBe(1);
    const denied = await svc.auditLog({ key: 'ROUTING' });
    expect(denied).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'denied', action: 'set' })]),
    );
    await bot.close();
  });

  it('is filled in from the console with a submit line', async () => {
    const { svc, bot } = await setup('modal_console');
    const s = new ConsoleSession(bot.discord, as.admin());
    await s.run('/config set setting:NOTE');
    const replies = await s.submit('value:"a longer note" reason:\'from the console\'');
    expect(displayed(replies.at(-1)?.embeds[0]?.title)).toBe('Updated NOTE');
    expect(svc.get('NOTE')).toBe('a longer note');
    await expect(s.submit('value:again')).rejects.toThrow('No form is open');
    await bot.close();
  });
});
